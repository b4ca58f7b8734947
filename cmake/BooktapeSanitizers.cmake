# Applies BOOKTAPE_SANITIZE ("address;undefined" or "thread") to every target of the build.
if(BOOKTAPE_SANITIZE)
  foreach(san IN LISTS BOOKTAPE_SANITIZE)
    add_compile_options(-fsanitize=${san})
    add_link_options(-fsanitize=${san})
  endforeach()
  add_compile_options(-fno-omit-frame-pointer -fno-sanitize-recover=all)
  if("thread" IN_LIST BOOKTAPE_SANITIZE)
    # Boost.Asio uses atomic_thread_fence, which TSan does not model; GCC warns at every use.
    add_compile_options(-Wno-tsan)
  endif()
  add_link_options(-fno-sanitize-recover=all)
  # mimalloc replaces malloc, which the sanitizers must own.
  set(BOOKTAPE_MIMALLOC OFF CACHE BOOL "" FORCE)
endif()
