# find_package(scanfw) for plugins built outside scanfw's tree.
include(CMakeFindDependencyMacro)
find_dependency(Boost)
include("${CMAKE_CURRENT_LIST_DIR}/scanfwTargets.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/ScanfwPlugin.cmake")
