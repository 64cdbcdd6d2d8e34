# sd_notify() for `iotplot broker` and `iotplot serve` under a Type=notify unit
# (src/cli/service.c). Without libsystemd the notifications compile to nothing, so
# hosts without systemd still build. It is loaded under systemd only (src/dynlib).
pkg_check_modules(LIBSYSTEMD IMPORTED_TARGET libsystemd)
if(TARGET iotplot AND LIBSYSTEMD_FOUND)
  iotplot_dlopen(iotplot LIBSYSTEMD systemd)
  target_compile_definitions(iotplot PRIVATE IOTPLOT_HAVE_LIBSYSTEMD=1)
elseif(TARGET iotplot)
  message(STATUS "libsystemd not found: iotplot will not notify systemd")
endif()
