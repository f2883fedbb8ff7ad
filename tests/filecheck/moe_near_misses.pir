// RUN: pimc opt %s -p canonicalize,fuse-interactions --split-input-file | filecheck %s

// A softmax gate over the experts weighs the stacked expert outputs: one rec.moe.
// CHECK-LABEL: module @gate
// CHECK-NEXT: graph
// CHECK-NEXT: rec.moe(%g, %x) : tensor<2x4xf32>
// CHECK-NEXT: return
module @gate {
  graph @main(%g: tensor<2x3xf32>, %x: tensor<2x3x4xf32>) -> (y: tensor<2x4xf32>) {
    %0 = nn.softmax(%g) {axis = 1} : tensor<2x3xf32>
    %1 = nn.unsqueeze(%0) {axes = [-1]} : tensor<2x3x1xf32>
    %2 = nn.mul(%x, %1) : tensor<2x3x4xf32>
    %3 = nn.reduce_sum(%2) {axes = [1], keepdims = false} : tensor<2x4xf32>
    return %3
  }
}

// -----

// Near miss: the softmax runs over the batch, not over the experts.
// CHECK-LABEL: module @softmax_over_batch
// CHECK-NOT:  rec.moe
// CHECK:      nn.softmax
module @softmax_over_batch {
  graph @main(%g: tensor<2x3xf32>, %x: tensor<2x3x4xf32>) -> (y: tensor<2x4xf32>) {
    %0 = nn.softmax(%g) {axis = 0} : tensor<2x3xf32>
    %1 = nn.unsqueeze(%0) {axes = [-1]} : tensor<2x3x1xf32>
    %2 = nn.mul(%x, %1) : tensor<2x3x4xf32>
    %3 = nn.reduce_sum(%2) {axes = [1], keepdims = false} : tensor<2x4xf32>
    return %3
  }
}

// -----

// Near miss: the sum runs over the expert outputs' features, not over the experts.
// CHECK-LABEL: module @sum_over_features
// CHECK-NOT:  rec.moe
// CHECK:      nn.reduce_sum
module @sum_over_features {
  graph @main(%g: tensor<2x3xf32>, %x: tensor<2x3x4xf32>) -> (y: tensor<2x3xf32>) {
    %0 = nn.softmax(%g) {axis = 1} : tensor<2x3xf32>
    %1 = nn.unsqueeze(%0) {axes = [-1]} : tensor<2x3x1xf32>
    %2 = nn.mul(%x, %1) : tensor<2x3x4xf32>
    %3 = nn.reduce_sum(%2) {axes = [2], keepdims = false} : tensor<2x3xf32>
    return %3
  }
}

// -----

// Near miss: a sigmoid gate does not sum to one over the experts.
// CHECK-LABEL: module @sigmoid_gate
// CHECK-NOT:  rec.moe
// CHECK:      nn.reduce_sum
module @sigmoid_gate {
  graph @main(%g: tensor<2x3xf32>, %x: tensor<2x3x4xf32>) -> (y: tensor<2x4xf32>) {
    %0 = nn.sigmoid(%g) : tensor<2x3xf32>
    %1 = nn.unsqueeze(%0) {axes = [-1]} : tensor<2x3x1xf32>
    %2 = nn.mul(%x, %1) : tensor<2x3x4xf32>
    %3 = nn.reduce_sum(%2) {axes = [1], keepdims = false} : tensor<2x4xf32>
    return %3
  }
}
