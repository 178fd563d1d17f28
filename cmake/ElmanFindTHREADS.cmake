# Defines the imported target elman::threads: the system's threads (POSIX
# threads), which a forward call with num_threads > 1 starts. Follows the
# convention of ElmanFindBLAS.cmake (included by the build and, for a static
# libelman, by elmanConfig.cmake); sets ELMAN_THREADS_FOUND,
# ELMAN_THREADS_NOT_FOUND_MESSAGE, ELMAN_THREADS_PC_REQUIRES and
# ELMAN_THREADS_PC_LIBS.
set(ELMAN_THREADS_FOUND FALSE)
set(ELMAN_THREADS_NOT_FOUND_MESSAGE "")
set(ELMAN_THREADS_PC_REQUIRES "")
set(ELMAN_THREADS_PC_LIBS "")

set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads QUIET)
if(Threads_FOUND)
  if(NOT TARGET elman::threads)
    add_library(elman::threads INTERFACE IMPORTED)
    set_target_properties(elman::threads PROPERTIES INTERFACE_LINK_LIBRARIES Threads::Threads)
  endif()
  set(ELMAN_THREADS_FOUND TRUE)
  set(ELMAN_THREADS_PC_LIBS "${CMAKE_THREAD_LIBS_INIT}")
else()
  set(ELMAN_THREADS_NOT_FOUND_MESSAGE "POSIX threads not found")
endif()
