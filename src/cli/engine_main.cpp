// usermirror-engine: the full command table (every component, libtorch included). `usermirror`
// exec's it for the commands it does not run itself; it can also be called directly.
#include "cli/commands.h"

int main(int argc, char** argv) { return um::cli::run_app(argc, argv, um::cli::command_table()); }
