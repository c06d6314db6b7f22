/* Calls a library written by `sparrowc compile MODEL --name NAME -o libNAME.so --header
 * NAME.h`: reads each input from a raw little-endian file (the bytes of the tensor, as
 * `numpy.ndarray.tofile` writes them), runs the model, and writes each output next to
 * OUT_PREFIX as OUT_PREFIX<i>.bin. Build (the demo does this):
 *
 *   cc -O2 -DMODEL_HEADER='"tiny.h"' -DMODEL_PREFIX=tiny -I DIR examples/run_model.c \
 *      -L DIR -ltiny -Wl,-rpath,DIR -o run_tiny
 *   ./run_tiny OUT_PREFIX INPUT0.bin [INPUT1.bin ...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include MODEL_HEADER

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define API(f) CAT(MODEL_PREFIX, f)

static size_t byte_size(const sparrow_tensor_info *t) {
  size_t n = 1;
  for (int32_t d = 0; d < t->rank; d++) n *= (size_t)t->shape[d];
  switch (t->dtype) {
    case 7: case 11: case 13: return n * 8;          /* int64, double, uint64 */
    case 1: case 6: case 12: return n * 4;           /* float, int32, uint32 */
    case 4: case 5: case 10: case 16: return n * 2;  /* 16-bit types */
    default: return n;                               /* 8-bit types, bool */
  }
}

int main(int argc, char **argv) {
  int32_t inputs = API(_num_inputs)(), outputs = API(_num_outputs)();
  if (argc != 2 + inputs) {
    fprintf(stderr, "usage: %s OUT_PREFIX", argv[0]);
    for (int32_t i = 0; i < inputs; i++) fprintf(stderr, " %s.bin", API(_input_info)(i)->name);
    fprintf(stderr, "\n");
    return 2;
  }
  const void **in = calloc((size_t)inputs, sizeof *in);
  void **out = calloc((size_t)outputs, sizeof *out);
  for (int32_t i = 0; i < inputs; i++) {
    const sparrow_tensor_info *t = API(_input_info)(i);
    size_t size = byte_size(t);
    void *buffer = malloc(size);
    FILE *f = fopen(argv[2 + i], "rb");
    if (!f || fread(buffer, 1, size, f) != size) {
      fprintf(stderr, "%s: expected %zu bytes for input '%s'\n", argv[2 + i], size, t->name);
      return 1;
    }
    fclose(f);
    in[i] = buffer;
  }
  for (int32_t i = 0; i < outputs; i++) out[i] = malloc(byte_size(API(_output_info)(i)));
  void *workspace = aligned_alloc(64, (API(_workspace_size)() + 63) / 64 * 64 + 64);
  int code = API(_run)(in, out, workspace, 1);
  if (code != 0) {
    fprintf(stderr, "run failed: %s\n", API(_strerror)(code));
    return 1;
  }
  for (int32_t i = 0; i < outputs; i++) {
    const sparrow_tensor_info *t = API(_output_info)(i);
    char path[4096];
    snprintf(path, sizeof path, "%s%d.bin", argv[1], (int)i);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(out[i], 1, byte_size(t), f) != byte_size(t)) {
      fprintf(stderr, "%s: cannot write\n", path);
      return 1;
    }
    fclose(f);
    printf("%s -> %s\n", t->name, path);
  }
  return 0;
}
