# `make install PREFIX=...` (and DESTDIR): the iotplot command, libiotplot with its headers
# and pkg-config file, the manual pages and the broker reference. debian/ installs from here.
include(GNUInstallDirs)

# The headers of libiotplot: every public header except those of other libraries, so a
# header the client headers start to include is installed without a change here.
set(IOTPLOT_NOT_LIB_HEADERS plotclient.h)
file(GLOB iotplot_headers CONFIGURE_DEPENDS ${IOTPLOT_INCLUDE}/iotplot/*.h)
foreach(h ${IOTPLOT_NOT_LIB_HEADERS})
  list(REMOVE_ITEM iotplot_headers ${IOTPLOT_INCLUDE}/iotplot/${h})
endforeach()

install(TARGETS iotplot RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS iotplot_static iotplot_shared
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${iotplot_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/iotplot)

# pkg-config: the shared library by default; --static adds what the archive needs.
configure_file(${CMAKE_CURRENT_LIST_DIR}/iotplot.pc.in ${CMAKE_BINARY_DIR}/iotplot.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/iotplot.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

file(GLOB iotplot_man1 CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/*.1)
file(GLOB iotplot_man5 CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/*.5)
install(FILES ${iotplot_man1} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${iotplot_man5} DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${CMAKE_SOURCE_DIR}/docs/broker.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
