# booktape_warnings(<target>): the project's warning set, errors on when BOOKTAPE_WERROR is set.
function(booktape_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wdouble-promotion
    -Wformat=2 -Wimplicit-fallthrough)
  # (No -Wnull-dereference: at -O3 GCC 12 reports it inside Boost.Asio's inlined scheduler,
  # where system-header suppression does not reach optimiser warnings.)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 reports impossible memcpy overlaps inside std::string's operator+ at -O2/-O3
    # (GCC bug 105329), a false positive in any string-building code. Clang has no such option
    # (the fuzz preset builds with clang).
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(BOOKTAPE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
