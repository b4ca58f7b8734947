# The dependency rule of docs/ARCHITECTURE.md, checked on the sources' includes:
#
#   core <- codecs <- io/net, io/archive <- io/record, io/replay, io/sim <- apps
#   io/consumers sits between io/net and io/record: it includes core, codecs and io/net, and
#   io/record and apps include it
#
# A folder may include only itself and the folders its rule lists. Every library target sees the
# whole source tree (one include root), so linking alone cannot refuse an include that goes the
# wrong way; this script does. Run by CTest (tests/CMakeLists.txt):
#
#   cmake -DROOT=<source dir> -P cmake/CheckLayering.cmake
#
# It prints every offending include with its file and line and fails, and also fails for a
# source file directly in io/ (each io concern has its folder).
cmake_minimum_required(VERSION 3.25)
if(NOT DEFINED ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source dir> -P CheckLayering.cmake")
endif()

# folder -> the folders it may include besides itself. Sibling io folders never include each
# other: what two of them share belongs one level down.
set(allowed_core "")
set(allowed_codecs "core")
set(allowed_io/net "core;codecs")
set(allowed_io/archive "core;codecs")
set(allowed_io/consumers "core;codecs;io/net")
set(allowed_io/record "core;codecs;io/net;io/archive;io/consumers")
set(allowed_io/replay "core;codecs;io/net;io/archive")
set(allowed_io/sim "core;codecs;io/net;io/archive")
set(allowed_apps "core;codecs;io/net;io/archive;io/consumers;io/record;io/replay;io/sim")
# Longest prefixes first, so io/record wins over a bare io.
set(layers io/net io/archive io/consumers io/record io/replay io/sim core codecs apps)
# Folders an include may name; anything else ("simdjson.h", "tests/...") is not ours to rule.
set(known_prefixes core codecs io/net io/archive io/consumers io/record io/replay io/sim apps io)

set(problems "")
file(GLOB stray RELATIVE "${ROOT}" "${ROOT}/io/*.hpp" "${ROOT}/io/*.cpp" "${ROOT}/io/*.h")
foreach(f IN LISTS stray)
  list(APPEND problems "${f}: a source file directly in io/ (put it in the folder of its concern)")
endforeach()

foreach(layer IN LISTS layers)
  file(GLOB_RECURSE sources RELATIVE "${ROOT}" "${ROOT}/${layer}/*.hpp" "${ROOT}/${layer}/*.cpp"
       "${ROOT}/${layer}/*.h")
  set(ok "${layer};${allowed_${layer}}")
  list(REMOVE_ITEM ok "")
  list(JOIN ok ", " ok_text)
  foreach(src IN LISTS sources)
    file(STRINGS "${ROOT}/${src}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*" "\\1" inc "${line}")
      set(target "")
      foreach(prefix IN LISTS known_prefixes)
        if(inc MATCHES "^${prefix}/")
          set(target "${prefix}")
          break()
        endif()
      endforeach()
      if(target STREQUAL "")
        continue()
      endif()
      if(target STREQUAL "io")
        list(APPEND problems "${src}: includes \"${inc}\", a path directly in io/")
      elseif(NOT target IN_LIST ok)
        list(APPEND problems "${src}: includes \"${inc}\", but ${layer} may include only ${ok_text}")
      endif()
    endforeach()
  endforeach()
endforeach()

if(problems)
  list(LENGTH problems n)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "layering: ${n} problem(s) with the dependency rule "
                      "(docs/ARCHITECTURE.md):\n  ${text}")
endif()
message(STATUS "layering: every include goes downward (${ROOT})")
