// libFuzzer's driver, from the toolchain's compiler-rt (linked by
// -sanitize=fuzzer). Called from Swift's own `main`, because SwiftPM gives
// every executable one (libFuzzer's `main` would clash with it).
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*run)(const uint8_t *data, size_t size));
