# Warnings travel through an interface target, never through global flags.
add_library(camx_warnings INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(camx_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
  if(CAMX_WERROR)
    target_compile_options(camx_warnings INTERFACE -Werror)
  endif()
endif()

# Sanitizers, for the CI build of the core tests.
add_library(camx_sanitizers INTERFACE)
if(CAMX_SANITIZE)
  target_compile_options(camx_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(camx_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
