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

// Lengths given at run time: a mask t < length [seq, batch, 1] on the digital units, read by
// the rec.gru (a row past its length keeps its state); y is the states times the mask (zero
// past each row's end) and y_h the last state times the mask at time 0 (zero for length 0).
// CHECK-LABEL: module @lengths
// CHECK:      %[[T:.*]] = nn.constant {value = dense<3x1xi32, [0, 1, 2]>}
// CHECK-NEXT: %[[L:.*]] = nn.less(%[[T]], %lens) : tensor<3x2xbool>
// CHECK-NEXT: %[[F:.*]] = nn.cast(%[[L]]) {to = "f32"}
// CHECK-NEXT: %[[M:.*]] = nn.unsqueeze(%[[F]]) {axes = [2]} : tensor<3x2x1xf32>
// CHECK:      %[[Y:.*]] = rec.gru(%x, {{.*}}, %[[M]]) {linear_before_reset = true} : tensor<3x2x1xf32>
// CHECK-NEXT: %[[YM:.*]] = nn.mul(%[[Y]], %[[M]])
// CHECK-NEXT: nn.unsqueeze(%[[YM]]) {axes = [1]} : tensor<3x1x2x1xf32>
// CHECK-NEXT: %[[H:.*]] = nn.slice(%[[Y]]) {starts = [2], ends = [3], axes = [0]}
// CHECK-NEXT: %[[M0:.*]] = nn.slice(%[[M]]) {starts = [0], ends = [1], axes = [0]}
// CHECK-NEXT: nn.mul(%[[H]], %[[M0]]) : tensor<1x2x1xf32>
// CHECK-NOT:  nn.gru
module @lengths {
  graph @main(%x: tensor<3x2x2xf32>, %lens: tensor<2xi32>) -> (y: tensor<3x1x2x1xf32>, y_h: tensor<1x2x1xf32>) {
    %0 = nn.constant {value = dense<1x3x2xf32, [0.2, 0.5, 0.2, -0.8, 0.5, 0.3]>} : tensor<1x3x2xf32>
    %1 = nn.constant {value = dense<1x3x1xf32, [-0.3, 0.3, 0.2]>} : tensor<1x3x1xf32>
    %2 = nn.constant {value = dense<1x6xf32, [0.2, 0.0, 0.3, -0.4, -0.1, -0.3]>} : tensor<1x6xf32>
    %4 = nn.constant {value = dense<1x2x1xf32, [0.0, 0.0]>} : tensor<1x2x1xf32>
    %5, %6 = nn.gru(%x, %0, %1, %2, %lens, %4) {activations = ["sigmoid", "tanh"], activation_alpha = [0.0, 0.0], activation_beta = [0.0, 0.0], linear_before_reset = true} : tensor<3x1x2x1xf32>, tensor<1x2x1xf32>
    return %5, %6
  }
}

// -----

// Bidirectional: one rec.gru per direction (the second reversed), y concatenated on the
// direction axis and y_h on the first, as ONNX lays them out.
// CHECK-LABEL: module @bidirectional
// CHECK:      %[[F:.*]] = rec.gru(%x, {{.*}}) {linear_before_reset = true} : tensor<3x2x1xf32>
// CHECK:      %[[YF:.*]] = nn.unsqueeze(%[[F]]) {axes = [1]}
// CHECK:      %[[HF:.*]] = nn.slice(%[[F]]) {starts = [2], ends = [3], axes = [0]}
// CHECK:      %[[R:.*]] = rec.gru(%x, {{.*}}) {linear_before_reset = true, reverse = true}
// CHECK:      %[[YR:.*]] = nn.unsqueeze(%[[R]]) {axes = [1]}
// CHECK:      %[[HR:.*]] = nn.slice(%[[R]]) {starts = [0], ends = [1], axes = [0]}
// CHECK:      nn.concat(%[[YF]], %[[YR]]) {axis = 1} : tensor<3x2x2x1xf32>
// CHECK:      nn.concat(%[[HF]], %[[HR]]) {axis = 0} : tensor<2x2x1xf32>
// CHECK-NOT:  nn.gru
module @bidirectional {
  graph @main(%x: tensor<3x2x2xf32>) -> (y: tensor<3x2x2x1xf32>, y_h: tensor<2x2x1xf32>) {
    %0 = nn.constant {value = dense<2x3x2xf32, [0.2, 0.5, 0.2, -0.8, 0.5, 0.3, 0.1, -0.2, 0.4, 0.3, -0.5, 0.6]>} : tensor<2x3x2xf32>
    %1 = nn.constant {value = dense<2x3x1xf32, [-0.3, 0.3, 0.2, 0.4, -0.1, 0.5]>} : tensor<2x3x1xf32>
    %2 = nn.constant {value = dense<2x6xf32, [0.2, 0.0, 0.3, -0.4, -0.1, -0.3, 0.1, 0.2, 0.0, 0.3, -0.2, 0.1]>} : tensor<2x6xf32>
    %3 = nn.constant {value = dense<2xi64, [3, 3]>} : tensor<2xi64>
    %4 = nn.constant {value = dense<2x2x1xf32, [0.0, 0.0, 0.0, 0.0]>} : tensor<2x2x1xf32>
    %5, %6 = nn.gru(%x, %0, %1, %2, %3, %4) {direction = "bidirectional", activations = ["sigmoid", "tanh", "sigmoid", "tanh"], activation_alpha = [0.0, 0.0, 0.0, 0.0], activation_beta = [0.0, 0.0, 0.0, 0.0], linear_before_reset = true} : tensor<3x2x2x1xf32>, tensor<2x2x1xf32>
    return %5, %6
  }
}

// -----

// Near miss: a constant length past the input's (ONNX leaves it undefined), so the GRU stays
// whole.
// CHECK-LABEL: module @length_past_the_sequence
// CHECK-NOT:  rec.gru
// CHECK:      nn.gru
module @length_past_the_sequence {
  graph @main(%x: tensor<3x2x2xf32>) -> (y: tensor<3x1x2x1xf32>, y_h: tensor<1x2x1xf32>) {
    %0 = nn.constant {value = dense<1x3x2xf32, [0.2, 0.5, 0.2, -0.8, 0.5, 0.3]>} : tensor<1x3x2xf32>
    %1 = nn.constant {value = dense<1x3x1xf32, [-0.3, 0.3, 0.2]>} : tensor<1x3x1xf32>
    %2 = nn.constant {value = dense<1x6xf32, [0.2, 0.0, 0.3, -0.4, -0.1, -0.3]>} : tensor<1x6xf32>
    %3 = nn.constant {value = dense<2xi64, [3, 4]>} : tensor<2xi64>
    %4 = nn.constant {value = dense<1x2x1xf32, [0.0, 0.0]>} : tensor<1x2x1xf32>
    %5, %6 = nn.gru(%x, %0, %1, %2, %3, %4) {activations = ["sigmoid", "tanh"], activation_alpha = [0.0, 0.0], activation_beta = [0.0, 0.0], linear_before_reset = true} : tensor<3x1x2x1xf32>, tensor<1x2x1xf32>
    return %5, %6
  }
}
