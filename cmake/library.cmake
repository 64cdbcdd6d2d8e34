# libiotplot: the MQTT codec, the client core and the host transports as one library for
# host C programs, static (libiotplot.a) and shared (libiotplot.so.N). The parts stay
# separate static libraries inside the build (the microcontroller build takes only the
# first two); this file only combines their objects.
set(IOTPLOT_LIB_PARTS ipm_codec ipm_client ipm_net)
# The ABI version, apart from the project's: bump it when a public struct or signature
# changes, so programs linked against the old library keep finding theirs.
set(IOTPLOT_SOVERSION 1)

# Objects that also go into a shared library must be position-independent.
set_target_properties(${IOTPLOT_LIB_PARTS} PROPERTIES POSITION_INDEPENDENT_CODE ON)

set(iotplot_objects "")
foreach(part ${IOTPLOT_LIB_PARTS})
  list(APPEND iotplot_objects $<TARGET_OBJECTS:${part}>)
endforeach()

add_library(iotplot_static STATIC ${iotplot_objects})
set_target_properties(iotplot_static PROPERTIES OUTPUT_NAME iotplot)

# Only the public ipm_ names are exported; the ipm__ internals and everything static stay
# inside, so the library can change them without breaking programs.
set(iotplot_map ${CMAKE_CURRENT_LIST_DIR}/libiotplot.map)
add_library(iotplot_shared SHARED ${iotplot_objects})
set_target_properties(iotplot_shared PROPERTIES
  OUTPUT_NAME iotplot
  VERSION ${IOTPLOT_SOVERSION}.0.0
  SOVERSION ${IOTPLOT_SOVERSION}
  LINK_DEPENDS ${iotplot_map})
target_link_options(iotplot_shared PRIVATE -Wl,--version-script=${iotplot_map})
# Every symbol the library needs is found at link time, not in a program's first run; not
# under the sanitizers, whose runtime (with clang) only the final program links.
if(NOT IOTPLOT_SANITIZE AND NOT IOTPLOT_FUZZ)
  target_link_options(iotplot_shared PRIVATE -Wl,--no-undefined)
endif()
target_link_libraries(iotplot_shared PRIVATE PkgConfig::OPENSSL)
