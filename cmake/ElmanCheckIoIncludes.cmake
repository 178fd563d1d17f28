# elman_io uses the public API of elman alone: its sources may include only
# what lies in include/, src/io/ and src/common/ (never the core's private
# headers such as src/internal.h or src/kernel.h). Run at configure time
# and, as the test io_include_boundary, with
#   cmake -DELMAN_SOURCE_DIR=<top> -P cmake/ElmanCheckIoIncludes.cmake
if(NOT ELMAN_SOURCE_DIR)
  message(FATAL_ERROR "ElmanCheckIoIncludes: set ELMAN_SOURCE_DIR")
endif()
set(_allowed_dirs include src/io src/common)
# Headers generated at build time for elman_io (protoc-c, from the ONNX
# schema: cmake/ElmanOnnx.cmake); not in the source tree.
set(_generated onnx.pb-c.h)
file(GLOB _io_files "${ELMAN_SOURCE_DIR}/src/io/*.c" "${ELMAN_SOURCE_DIR}/src/io/*.h"
  "${ELMAN_SOURCE_DIR}/src/common/*.h")
set(_bad "")
foreach(_f IN LISTS _io_files)
  file(STRINGS "${_f}" _lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(_line IN LISTS _lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*" "\\1" _inc "${_line}")
    set(_ok FALSE)
    list(FIND _generated "${_inc}" _gen_index)
    if(_gen_index GREATER -1)
      set(_ok TRUE)
    endif()
    foreach(_d IN LISTS _allowed_dirs)
      if(EXISTS "${ELMAN_SOURCE_DIR}/${_d}/${_inc}" AND NOT _inc MATCHES "\\.\\.")
        set(_ok TRUE)
      endif()
    endforeach()
    if(NOT _ok)
      file(RELATIVE_PATH _rel "${ELMAN_SOURCE_DIR}" "${_f}")
      string(APPEND _bad "\n  ${_rel}: #include \"${_inc}\"")
    endif()
  endforeach()
endforeach()
if(_bad)
  message(FATAL_ERROR "elman_io may include only headers of include/, src/io/ and "
    "src/common/ (the core's internals are off limits):${_bad}")
endif()
