// RUN: pimc opt %s --split-input-file | filecheck %s
// RUN: pimc opt %s --split-input-file | pimc opt - --split-input-file | filecheck %s

// Every dialect prints in the generic form; default attributes are dropped.
// CHECK-LABEL: module @dense
// CHECK:      graph @main(%x: tensor<4x3xf32>) -> (y: tensor<4x2xf32>) {
// CHECK-NEXT:   %w = nn.constant {value = dense<3x2xf32, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]>} : tensor<3x2xf32>
// CHECK-NEXT:   %0 = rec.dense(%x, %w) {activation = "relu"} : tensor<4x2xf32>
// CHECK-NEXT:   %1 = nn.softmax(%0) : tensor<4x2xf32>
// CHECK-NEXT:   return %1
module @dense {
  graph @main(%x: tensor<4x3xf32>) -> (y: tensor<4x2xf32>) {
    %w = nn.constant {value = dense<3x2xf32, [1, 2, 3, 4, 5, 6]>} : tensor<3x2xf32>
    %7 = rec.dense(%x, %w) {activation = "relu"} : tensor<4x2xf32>
    %9 = nn.softmax(%7) {axis = -1} : tensor<4x2xf32>
    return %9
  }
}

// -----

// CHECK-LABEL: module @rec attributes {producer = "hand"}
// CHECK: %0 = rec.embedding_bag(%table, %ids) {mode = "none"} : tensor<2x3x4xf32>
// CHECK: %1 = rec.dot_interaction(%0) {triangle = "upper"} : tensor<2x3xf32>
// CHECK: %2 = rec.fm(%0) : tensor<2x1xf32>
module @rec attributes {producer = "hand"} {
  graph @main(%ids: tensor<2x3xi64>, %table: tensor<10x4xf32, bits=8>) -> (a: tensor<2x3xf32>, b: tensor<2x1xf32>) {
    %0 = rec.embedding_bag(%table, %ids) {mode = "none"} : tensor<2x3x4xf32>
    %1 = rec.dot_interaction(%0) {triangle = "upper", self_interaction = false} : tensor<2x3xf32>
    %2 = rec.fm(%0) {reduce = true} : tensor<2x1xf32>
    return %1, %2
  }
}
