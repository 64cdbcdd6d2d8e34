# iotplot_dlopen(TARGET PREFIX NAME): TARGET loads libNAME when it needs it (src/dynlib)
# instead of linking it. PREFIX is the pkg_check_modules() prefix that found it (its
# IMPORTED_TARGET PkgConfig::PREFIX, visible where TARGET is): its headers and flags go
# to TARGET, and TARGET gets PREFIX_SONAME (the soname of the
# library pkg-config links, read from the file, so it is the version the headers are
# for) and PREFIX_PACKAGE, the Debian package that ships that soname, for the message
# when it is missing. dpkg-shlibdeps only sees linked libraries, so the packages of the
# ones the iotplot binary loads are written to dlopen-depends in the build folder, which
# debian/rules adds to the package's Depends.
function(iotplot_dlopen target prefix name)
  set(pc PkgConfig::${prefix})
  get_target_property(libs ${pc} INTERFACE_LINK_LIBRARIES)
  set(file "")
  foreach(path IN LISTS libs)
    get_filename_component(base "${path}" NAME)
    if(base MATCHES "^lib${name}\\.so")
      set(file "${path}")
    endif()
  endforeach()
  if(NOT file)
    message(FATAL_ERROR "pkg-config module ${prefix} links no lib${name}.so")
  endif()
  execute_process(COMMAND ${CMAKE_OBJDUMP} -p "${file}" OUTPUT_VARIABLE dump
                  RESULT_VARIABLE rc ERROR_QUIET)
  if(NOT rc EQUAL 0 OR NOT dump MATCHES "SONAME +([^ \r\n]+)")
    message(FATAL_ERROR "cannot read the soname of ${file} (objdump: ${CMAKE_OBJDUMP})")
  endif()
  set(soname "${CMAKE_MATCH_1}")
  # Debian policy 8.1: the package is the soname without ".so.", with a hyphen before
  # the version when the name ends in a digit (libmatio.so.11 -> libmatio11).
  string(REGEX MATCH "^(.*)\\.so\\.(.*)$" _ "${soname}")
  set(stem "${CMAKE_MATCH_1}")
  set(version "${CMAKE_MATCH_2}")
  if(stem MATCHES "[0-9]$")
    set(package "${stem}-${version}")
  else()
    set(package "${stem}${version}")
  endif()
  string(TOLOWER "${package}" package)
  string(REPLACE "_" "-" package "${package}")
  target_compile_definitions(${target} PRIVATE ${prefix}_SONAME="${soname}"
                             ${prefix}_PACKAGE="${package}")
  get_target_property(dirs ${pc} INTERFACE_INCLUDE_DIRECTORIES)
  get_target_property(opts ${pc} INTERFACE_COMPILE_OPTIONS)
  if(dirs)
    target_include_directories(${target} PRIVATE ${dirs})
  endif()
  if(opts)
    target_compile_options(${target} PRIVATE ${opts})
  endif()
  target_link_libraries(${target} PRIVATE ipd_dynlib)
  if(NOT target MATCHES "^fuzz_") # the fuzzers are not shipped
    set_property(GLOBAL APPEND PROPERTY IOTPLOT_DLOPEN_PACKAGES ${package})
  endif()
endfunction()

# dlopen-depends: "libmatio11, libxlsxwriter4, ..." (called once the tree is configured).
function(iotplot_dlopen_depends)
  get_property(packages GLOBAL PROPERTY IOTPLOT_DLOPEN_PACKAGES)
  list(REMOVE_DUPLICATES packages)
  list(SORT packages)
  list(JOIN packages ", " line)
  file(WRITE ${CMAKE_BINARY_DIR}/dlopen-depends "${line}\n")
endfunction()
