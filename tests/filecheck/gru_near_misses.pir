// RUN: pimc opt %s -p canonicalize,fuse-interactions --split-input-file | filecheck %s

// A forward GRU with constant weights: one rec.gru with its weights as [in, out], the
// biases split, y unsqueezed back to [seq, 1, batch, H] and y_h the last step's slice.
// CHECK-LABEL: module @forward
// CHECK:      nn.constant {value = dense<2x3xf32, [0.2, 0.2, 0.5, 0.5, -0.8, 0.3]>}
// CHECK:      nn.constant {value = dense<1x3xf32, [-0.3, 0.3, 0.2]>}
// CHECK:      nn.constant {value = dense<3xf32, [0.2, 0.0, 0.3]>}
// CHECK:      nn.constant {value = dense<3xf32, [-0.4, -0.1, -0.3]>}
// CHECK:      %[[Y:.*]] = rec.gru(%x, {{.*}}) {linear_before_reset = true} : tensor<3x2x1xf32>
// CHECK-NEXT: nn.unsqueeze(%[[Y]]) {axes = [1]} : tensor<3x1x2x1xf32>
// CHECK-NEXT: nn.slice(%[[Y]]) {starts = [2], ends = [3], axes = [0]} : tensor<1x2x1xf32>
// CHECK-NOT:  nn.gru
module @forward {
  graph @main(%x: tensor<3x2x2xf32>) -> (y: tensor<3x1x2x1xf32>, y_h: tensor<1x2x1xf32>) {
    %0 = nn.constant {value = dense<1x3x2xf32, [0.2, 0.5, 0.2, -0.8, 0.5, 0.3]>} : tensor<1x3x2xf32>
    %1 = nn.constant {value = dense<1x3x1xf32, [-0.3, 0.3, 0.2]>} : tensor<1x3x1xf32>
    %2 = nn.constant {value = dense<1x6xf32, [0.2, 0.0, 0.3, -0.4, -0.1, -0.3]>} : tensor<1x6xf32>
    %3 = nn.constant {value = dense<2xi64, [3, 3]>} : tensor<2xi64>
    %4 = nn.constant {value = dense<1x2x1xf32, [0.0, 0.0]>} : tensor<1x2x1xf32>
    %5, %6 = nn.gru(%x, %0, %1, %2, %3, %4) {activations = ["sigmoid", "tanh"], activation_alpha = [0.0, 0.0], activation_beta = [0.0, 0.0], linear_before_reset = true} : tensor<3x1x2x1xf32>, tensor<1x2x1xf32>
    return %5, %6
  }
}

// -----

// Reversed: the last state y_h is the one at time 0.
// CHECK-LABEL: module @reverse
// CHECK:      %[[Y:.*]] = rec.gru(%x, {{.*}}) {reverse = true} : tensor<3x2x1xf32>
// CHECK:      nn.slice(%[[Y]]) {starts = [0], ends = [1], axes = [0]} : tensor<1x2x1xf32>
// CHECK-NOT:  nn.gru
module @reverse {
  graph @main(%x: tensor<3x2x2xf32>) -> (y: tensor<3x1x2x1xf32>, y_h: tensor<1x2x1xf32>) {
    %0 = nn.constant {value = dense<1x3x2xf32, [0.2, 0.5, 0.2, -0.8, 0.5, 0.3]>} : tensor<1x3x2xf32>
    %1 = nn.constant {value = dense<1x3x1xf32, [-0.3, 0.3, 0.2]>} : tensor<1x3x1xf32>
    %2 = nn.constant {value = dense<1x6xf32, [0.2, 0.0, 0.3, -0.4, -0.1, -0.3]>} : tensor<1x6xf32>
    %3 = nn.constant {value = dense<2xi64, [3, 3]>} : tensor<2xi64>
    %4 = nn.constant {value = dense<1x2x1xf32, [0.0, 0.0]>} : tensor<1x2x1xf32>
    %5, %6 = nn.gru(%x, %0, %1, %2, %3, %4) {direction = "reverse", activations = ["sigmoid", "tanh"], activation_alpha = [0.0, 0.0], activation_beta = [0.0, 0.0]} : tensor<3x1x2x1xf32>, tensor<1x2x1xf32>
    return %5, %6
  }
}

// -----

// Near miss: the input weights are computed (a graph argument here), so the GRU stays whole.
// CHECK-LABEL: module @weights_not_constant
// CHECK-NOT:  rec.gru
// CHECK:      nn.gru(%x, %w,
module @weights_not_constant {
  graph @main(%x: tensor<3x2x2xf32>, %w: tensor<1x3x2xf32>) -> (y: tensor<3x1x2x1xf32>, y_h: tensor<1x2x1xf32>) {
    %1 = nn.constant {value = dense<1x3x1xf32, [-0.3, 0.3, 0.2]>} : tensor<1x3x1xf32>
    %2 = nn.constant {value = dense<1x6xf32, [0.2, 0.0, 0.3, -0.4, -0.1, -0.3]>} : tensor<1x6xf32>
    %3 = nn.constant {value = dense<2xi64, [3, 3]>} : tensor<2xi64>
    %4 = nn.constant {value = dense<1x2x1xf32, [0.0, 0.0]>} : tensor<1x2x1xf32>
    %5, %6 = nn.gru(%x, %w, %1, %2, %3, %4) {activations = ["sigmoid", "tanh"], activation_alpha = [0.0, 0.0], activation_beta = [0.0, 0.0], linear_before_reset = true} : tensor<3x1x2x1xf32>, tensor<1x2x1xf32>
    return %5, %6
  }
}

// -----

// Near miss: the second sequence is shorter (ONNX zeroes its outputs past its end).
// CHECK-LABEL: module @short_sequence
// CHECK-NOT:  rec.gru
// CHECK:      nn.gru
module @short_sequence {
  graph @main(%x: tensor<3x2x2xf32>) -> (y: tensor<3x1x2x1xf32>, y_h: tensor<1x2x1xf32>) {
    %0 = nn.constant {value = dense<1x3x2xf32, [0.2, 0.5, 0.2, -0.8, 0.5, 0.3]>} : tensor<1x3x2xf32>
    %1 = nn.constant {value = dense<1x3x1xf32, [-0.3, 0.3, 0.2]>} : tensor<1x3x1xf32>
    %2 = nn.constant {value = dense<1x6xf32, [0.2, 0.0, 0.3, -0.4, -0.1, -0.3]>} : tensor<1x6xf32>
    %3 = nn.constant {value = dense<2xi64, [3, 2]>} : tensor<2xi64>
    %4 = nn.constant {value = dense<1x2x1xf32, [0.0, 0.0]>} : tensor<1x2x1xf32>
    %5, %6 = nn.gru(%x, %0, %1, %2, %3, %4) {activations = ["sigmoid", "tanh"], activation_alpha = [0.0, 0.0], activation_beta = [0.0, 0.0], linear_before_reset = true} : tensor<3x1x2x1xf32>, tensor<1x2x1xf32>
    return %5, %6
  }
}
