# Install rules: libraries, headers, pkg-config files and the CMake package.
#
#   elman_install_library(<target>
#     [HEADERS <file>...]            public headers, to <includedir>
#     [PC_DESCRIPTION <text>]        Description: of <target>.pc
#     [PC_REQUIRES <module>...]      Requires: (public pkg-config modules)
#     [PC_LIBS_PRIVATE <flag>...]    Libs.private: besides the dependencies'
#     [DEPENDENCIES <DEP>...])       private dependencies, each found by
#                                    cmake/ElmanFind<DEP>.cmake
#
# installs the library into the export set elmanTargets (so that it becomes
# elman::<target>), its headers, and <target>.pc. Every DEPENDENCIES entry
# follows one convention: cmake/ElmanFind<DEP>.cmake defines the imported
# target elman::<dep>, which the library links PRIVATE, and sets
# ELMAN_<DEP>_FOUND, ELMAN_<DEP>_NOT_FOUND_MESSAGE, ELMAN_<DEP>_PC_REQUIRES
# (pkg-config modules, for Requires.private) and ELMAN_<DEP>_PC_LIBS (for
# Libs.private). When the library is static, the module is installed with
# the CMake package and elmanConfig.cmake includes it before the exported
# targets, so consumers find the dependency again.
#
#   elman_install_package()
#
# runs once, after every elman_install_library(): writes elmanConfig.cmake,
# elmanConfigVersion.cmake and elmanTargets.cmake.
#
#   elman_install_programs(<target>... [EXPORTER <script>])
#
# installs the command-line programs to <bindir> and the exporter <script>
# twice: as the command <bindir>/elman-export and as the Python module
# <datadir>/elman/python/export_pytorch.py. With shared libraries and
# ELMAN_INSTALL_RPATH (the default), the programs carry the RUNPATH
# $ORIGIN/<bindir to libdir> (e.g. $ORIGIN/../lib), so that an install to
# any prefix runs without LD_LIBRARY_PATH; a distribution package, whose
# libraries are in the system's directory, turns it off.
#
# The pkg-config files are written at install time, so that their prefix is
# the one actually installed to (`cmake --install build --prefix /tmp/x`
# gives prefix=/tmp/x), not the one configured.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ELMAN_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/elman"
  CACHE STRING "Where to install elmanConfig.cmake, relative to the prefix")
mark_as_advanced(ELMAN_INSTALL_CMAKEDIR)
option(ELMAN_INSTALL_RPATH
  "Installed programs find elman's shared libraries relative to themselves (\$ORIGIN/../lib)" ON)

# A pkg-config directory variable: ${prefix}/<dir>, or <dir> if absolute.
function(elman_pc_dir dir out_var)
  if(IS_ABSOLUTE "${dir}")
    set(${out_var} "${dir}" PARENT_SCOPE)
  else()
    set(${out_var} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

function(elman_install_library target)
  cmake_parse_arguments(PARSE_ARGV 1 arg ""
    "PC_DESCRIPTION" "HEADERS;PC_REQUIRES;PC_LIBS_PRIVATE;DEPENDENCIES")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "elman_install_library: unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  get_target_property(type ${target} TYPE)

  install(TARGETS ${target} EXPORT elmanTargets
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
    INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
  if(arg_HEADERS)
    install(FILES ${arg_HEADERS} DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
  endif()
  set_property(GLOBAL APPEND PROPERTY ELMAN_INSTALLED_LIBRARIES ${target})

  # pkg-config fields. The dependencies' modules and libraries are private:
  # a shared library carries them itself, a static one needs them listed
  # (pkg-config --static).
  set(requires_private "")
  set(libs_private "")
  foreach(dep IN LISTS arg_DEPENDENCIES)
    if(NOT ELMAN_${dep}_FOUND)
      message(FATAL_ERROR "${target}: dependency ${dep} was not found "
        "(include(ElmanFind${dep}) before elman_install_library)")
    endif()
    list(APPEND requires_private ${ELMAN_${dep}_PC_REQUIRES})
    list(APPEND libs_private ${ELMAN_${dep}_PC_LIBS})
    if(type STREQUAL "STATIC_LIBRARY")
      set_property(GLOBAL APPEND PROPERTY ELMAN_CONFIG_DEPENDENCIES ${dep})
    endif()
  endforeach()
  list(APPEND libs_private ${arg_PC_LIBS_PRIVATE})
  set(cflags "")
  get_target_property(defs ${target} INTERFACE_COMPILE_DEFINITIONS)
  if(defs)
    foreach(def IN LISTS defs)
      string(APPEND cflags " -D${def}")
    endforeach()
  endif()
  get_target_property(libname ${target} OUTPUT_NAME)
  if(NOT libname)
    set(libname ${target})
  endif()

  # Everything but the prefix is known now; a script run at install time
  # fills in the prefix and writes the file, then install(FILES) copies it
  # (honouring DESTDIR). The template is copied so that installing needs
  # only the build tree.
  set(pc_dir "${PROJECT_BINARY_DIR}/pkgconfig")
  configure_file("${PROJECT_SOURCE_DIR}/cmake/elman.pc.in" "${pc_dir}/pc.in" COPYONLY)
  elman_pc_dir("${CMAKE_INSTALL_LIBDIR}" pc_libdir)
  elman_pc_dir("${CMAKE_INSTALL_INCLUDEDIR}" pc_includedir)
  string(REPLACE ";" ", " requires "${arg_PC_REQUIRES}")
  string(REPLACE ";" ", " requires_private "${requires_private}")
  string(REPLACE ";" " " libs_private "${libs_private}")
  set(script "${pc_dir}/${target}.pc.cmake")
  file(WRITE "${script}" "# Generated by elman_install_library(): writes ${target}.pc at install time.
set(PC_NAME [==[${target}]==])
set(PC_DESCRIPTION [==[${arg_PC_DESCRIPTION}]==])
set(PC_VERSION [==[${PROJECT_VERSION}]==])
set(PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
set(PC_LIBDIR [==[${pc_libdir}]==])
set(PC_INCLUDEDIR [==[${pc_includedir}]==])
set(PC_REQUIRES [==[${requires}]==])
set(PC_REQUIRES_PRIVATE [==[${requires_private}]==])
set(PC_CFLAGS [==[${cflags}]==])
set(PC_LIBNAME [==[${libname}]==])
set(PC_LIBS_PRIVATE [==[${libs_private}]==])
configure_file([==[${pc_dir}/pc.in]==] [==[${pc_dir}/${target}.pc]==] @ONLY)
")
  install(SCRIPT "${script}")
  install(FILES "${pc_dir}/${target}.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endfunction()

function(elman_install_package)
  get_property(libraries GLOBAL PROPERTY ELMAN_INSTALLED_LIBRARIES)
  get_property(dependencies GLOBAL PROPERTY ELMAN_CONFIG_DEPENDENCIES)
  list(REMOVE_DUPLICATES dependencies)
  # For elmanConfig.cmake.in, as foreach(... IN ITEMS a b c) lists.
  string(REPLACE ";" " " ELMAN_CONFIG_COMPONENTS "${libraries}")
  string(REPLACE ";" " " ELMAN_CONFIG_DEPENDENCIES "${dependencies}")

  install(EXPORT elmanTargets
    NAMESPACE elman::
    DESTINATION "${ELMAN_INSTALL_CMAKEDIR}")
  configure_package_config_file(
    "${PROJECT_SOURCE_DIR}/cmake/elmanConfig.cmake.in"
    "${PROJECT_BINARY_DIR}/elmanConfig.cmake"
    INSTALL_DESTINATION "${ELMAN_INSTALL_CMAKEDIR}"
    NO_SET_AND_CHECK_MACRO)
  # SameMajorVersion: a 0.x consumer asking for 0.2 accepts any 0.y.
  write_basic_package_version_file(
    "${PROJECT_BINARY_DIR}/elmanConfigVersion.cmake"
    VERSION "${PROJECT_VERSION}"
    COMPATIBILITY SameMajorVersion)
  set(modules "")
  foreach(dep IN LISTS dependencies)
    list(APPEND modules "${PROJECT_SOURCE_DIR}/cmake/ElmanFind${dep}.cmake")
  endforeach()
  install(FILES
    "${PROJECT_BINARY_DIR}/elmanConfig.cmake"
    "${PROJECT_BINARY_DIR}/elmanConfigVersion.cmake"
    ${modules}
    DESTINATION "${ELMAN_INSTALL_CMAKEDIR}")
endfunction()

function(elman_install_programs)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "EXPORTER" "")
  set(rpath "")
  if(BUILD_SHARED_LIBS AND ELMAN_INSTALL_RPATH)
    # Both directories relative to the prefix (GNUInstallDirs' default):
    # the path between them holds whatever prefix is installed to.
    file(RELATIVE_PATH rel "${CMAKE_INSTALL_FULL_BINDIR}" "${CMAKE_INSTALL_FULL_LIBDIR}")
    set(rpath "\$ORIGIN/${rel}")
  endif()
  foreach(target IN LISTS arg_UNPARSED_ARGUMENTS)
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "${rpath}")
    install(TARGETS ${target} RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
  endforeach()
  if(arg_EXPORTER)
    install(PROGRAMS "${arg_EXPORTER}" DESTINATION "${CMAKE_INSTALL_BINDIR}"
      RENAME elman-export)
    install(PROGRAMS "${arg_EXPORTER}" DESTINATION "${CMAKE_INSTALL_DATADIR}/elman/python")
  endif()
endfunction()
