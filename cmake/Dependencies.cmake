# Every third-party dependency comes from a Debian package (scripts/install-deps).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(simdjson REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
find_package(CURL REQUIRED)
find_package(GTest REQUIRED)
find_package(benchmark QUIET)
# libtorch: only model/, train/ and backend/embedded may link it.
find_package(Torch QUIET)

set(UM_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
    -Woverloaded-virtual -Wimplicit-fallthrough
    # designated initializers ({.file = f, .line = n}) leave the rest defaulted on purpose
    -Wno-missing-field-initializers)
if(UM_WERROR)
  list(APPEND UM_WARNINGS -Werror)
endif()
if(UM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
