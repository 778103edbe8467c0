// Writes the guide's sample model (see TestModels.h: writeSampleModel) to the folder given as the
// first argument; used by tests/sdk when examples/sample_model is not there.
#include "TestModels.h"

#include <cstdio>
#include <exception>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_FOLDER\n", argv[0]);
    return 2;
  }
  try {
    optima_v2::test::writeSampleModel(argv[1]);
  } catch (const std::exception &E) {
    std::fprintf(stderr, "error: %s\n", E.what());
    return 1;
  }
  return 0;
}
