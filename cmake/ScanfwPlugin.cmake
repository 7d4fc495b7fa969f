# scanfw_add_plugin(<name> SOURCES <src>... [TESTS <test-src>...])
#
# Builds a technique plugin <name>.so against scanfw's plugin API and installs it
# into lib/scanfw/plugins. Works in scanfw's tree and out of it:
#   find_package(scanfw REQUIRED)   # after `cmake --install` of scanfw
#   scanfw_add_plugin(mytech SOURCES mytech.cpp)
# TESTS (in-tree only) become a GoogleTest executable registered with ctest; it can
# load the built plugin by name with tests/support/plugin_fixture.hpp.
function(scanfw_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;TESTS" ${ARGN})
  if(NOT name MATCHES "^[a-z0-9_-]+$")
    message(FATAL_ERROR "scanfw plugin name '${name}' must match [a-z0-9_-]+")
  endif()
  set(target "scanfw_plugin_${name}")
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE scanfw::plugin_api)
  # Debian's gcc links with --as-needed, which leaves libc out of a plugin that calls
  # none of its functions; Debian policy (lintian: library-not-linked-against-libc)
  # wants every shared object linked against libc.
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_link_libraries(${target} PRIVATE "-Wl,--push-state,--no-as-needed,-lc,--pop-state")
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME "${name}"
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  if(DEFINED SCANFW_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${SCANFW_PLUGIN_OUTPUT_DIR}")
  endif()
  install(TARGETS ${target} LIBRARY DESTINATION lib/scanfw/plugins)
  if(ARG_TESTS AND COMMAND scanfw_add_plugin_test)
    scanfw_add_plugin_test(${name} ${ARG_TESTS})
  endif()
endfunction()
