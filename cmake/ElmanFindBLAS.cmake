# Defines the imported target elman::blas: a CBLAS library (OpenBLAS) with
# its cblas.h. pkg-config's "openblas" module gives header and library of the
# same build (Debian installs several); FindBLAS is the fallback, with
# cblas.h searched next to it.
#
# Included twice: by elman's own build, and, installed next to
# elmanConfig.cmake, by that config. A static libelman's exported link
# interface names elman::blas, so a consumer must find BLAS again, the same
# way the build did. This file therefore never fails; it sets
#   ELMAN_BLAS_FOUND              TRUE or FALSE
#   ELMAN_BLAS_NOT_FOUND_MESSAGE  why not, when FALSE
#   ELMAN_BLAS_PC_REQUIRES        the pkg-config module it came from, or empty
#   ELMAN_BLAS_PC_LIBS            otherwise, the libraries for Libs.private
# and the includer decides what a missing BLAS means.
#
# Every dependency of a library of this project follows the same convention
# (cmake/ElmanFind<DEP>.cmake, target elman::<dep>, ELMAN_<DEP>_* variables):
# see elman_install_library() in ElmanInstall.cmake.
set(ELMAN_BLAS_FOUND FALSE)
set(ELMAN_BLAS_NOT_FOUND_MESSAGE "")
set(ELMAN_BLAS_PC_REQUIRES "")
set(ELMAN_BLAS_PC_LIBS "")

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(ELMAN_OPENBLAS QUIET IMPORTED_TARGET openblas)
endif()

if(ELMAN_OPENBLAS_FOUND)
  if(NOT TARGET elman::blas)
    add_library(elman::blas INTERFACE IMPORTED)
    set_target_properties(elman::blas PROPERTIES
      INTERFACE_LINK_LIBRARIES PkgConfig::ELMAN_OPENBLAS)
  endif()
  set(ELMAN_BLAS_FOUND TRUE)
  set(ELMAN_BLAS_PC_REQUIRES openblas)
else()
  set(BLA_VENDOR OpenBLAS)
  find_package(BLAS QUIET)
  find_path(ELMAN_CBLAS_INCLUDE_DIR cblas.h
    PATH_SUFFIXES openblas openblas-pthread x86_64-linux-gnu/openblas-pthread
                  aarch64-linux-gnu/openblas-pthread)
  if(NOT BLAS_FOUND)
    set(ELMAN_BLAS_NOT_FOUND_MESSAGE
      "OpenBLAS not found: install it (Debian: libopenblas-dev)")
  elseif(NOT ELMAN_CBLAS_INCLUDE_DIR)
    set(ELMAN_BLAS_NOT_FOUND_MESSAGE
      "cblas.h not found: install OpenBLAS (Debian: libopenblas-dev)")
  else()
    if(NOT TARGET elman::blas)
      add_library(elman::blas INTERFACE IMPORTED)
      set_target_properties(elman::blas PROPERTIES
        INTERFACE_LINK_LIBRARIES "${BLAS_LIBRARIES}"
        INTERFACE_INCLUDE_DIRECTORIES "${ELMAN_CBLAS_INCLUDE_DIR}")
    endif()
    set(ELMAN_BLAS_FOUND TRUE)
    set(ELMAN_BLAS_PC_LIBS "${BLAS_LIBRARIES}")
  endif()
endif()
