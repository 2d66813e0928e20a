# um_component(<name> DEPS <components...> LIBS <imported targets...>)
# Builds static library um_<name> from every .cpp under src/<name>/ (recursively), with src/ as the
# include root. DEPS are other usermirror components; the layering check (scripts/check-layering)
# verifies that #include lines agree with ARCHITECTURE.md's dependency table.
function(um_component name)
  cmake_parse_arguments(ARG "" "" "DEPS;LIBS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(um_${name} STATIC ${srcs})
  target_include_directories(um_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_compile_options(um_${name} PRIVATE ${UM_WARNINGS})
  set(deps)
  foreach(d IN LISTS ARG_DEPS)
    list(APPEND deps um_${d})
  endforeach()
  target_link_libraries(um_${name} PUBLIC ${deps} ${ARG_LIBS})
endfunction()

# um_tests(<component> LIBS <targets...>): one GoogleTest binary per component from tests/<component>/*.cpp.
function(um_tests comp)
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(NOT srcs)
    return()
  endif()
  add_executable(${comp}_tests ${srcs})
  target_compile_options(${comp}_tests PRIVATE ${UM_WARNINGS})
  target_link_libraries(${comp}_tests PRIVATE um_test_common ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${comp}_tests
    PROPERTIES LABELS ${comp} ENVIRONMENT "UM_SOURCE_DIR=${CMAKE_SOURCE_DIR};UM_BINARY_DIR=${CMAKE_BINARY_DIR}"
    DISCOVERY_TIMEOUT 60)
endfunction()
