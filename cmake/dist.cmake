# What a system installation needs beyond the build tree: systemd readiness for the
# command, the combined client library, and the install rules (make install, make deb).
include(${CMAKE_CURRENT_LIST_DIR}/systemd.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/library.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/install.cmake)
