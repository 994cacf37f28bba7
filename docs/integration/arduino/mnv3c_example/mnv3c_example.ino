// Run the model on every loop and print the most likely class.
#include <mnv3c_model.h>

static int8_t input[MNV3C_INPUT_SIZE];  // fill with the quantized NHWC image
static int8_t output[MNV3C_OUTPUT_SIZE];

void setup() {
  Serial.begin(115200);
}

void loop() {
  if (mnv3c_model_invoke(input, output) != 0) {
    Serial.println("model error");
    return;
  }
  unsigned best = 0;
  for (unsigned i = 1; i < MNV3C_OUTPUT_SIZE; i++) {
    best = output[i] > output[best] ? i : best;
  }
  Serial.println(best);
  delay(1000);
}
