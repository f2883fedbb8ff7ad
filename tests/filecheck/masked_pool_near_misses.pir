// RUN: pimc opt %s -p canonicalize,fuse-interactions --split-input-file | filecheck %s

// The mask of a padded lookup weighs its rows: one summed bag, padding row (0) zeroed.
// CHECK-LABEL: module @masked_sum
// CHECK:      nn.constant {value = dense<3x2xf32, [0.0, 0.0, 2.0, 1.5, 0.25, 1.0]>} : tensor<3x2xf32>
// CHECK-NEXT: rec.embedding_bag(%{{[0-9]+}}, %ids) : tensor<2x2xf32>
// CHECK-NOT:  nn.matmul
module @masked_sum {
  graph @main(%ids: tensor<2x4xi64>) -> (y: tensor<2x1x2xf32>) {
    %t = nn.constant {value = dense<3x2xf32, [0.5, -1.0, 2.0, 1.5, 0.25, 1.0]>} : tensor<3x2xf32>
    %p = nn.constant {value = dense<i64, [0]>} : tensor<i64>
    %0 = nn.equal(%ids, %p) : tensor<2x4xbool>
    %1 = nn.not(%0) : tensor<2x4xbool>
    %2 = nn.unsqueeze(%1) {axes = [1]} : tensor<2x1x4xbool>
    %3 = nn.cast(%2) {to = "f32"} : tensor<2x1x4xf32>
    %4 = nn.gather(%t, %ids) {axis = 0} : tensor<2x4x2xf32>
    %5 = nn.matmul(%3, %4) : tensor<2x1x2xf32>
    return %5
  }
}

// -----

// Near miss: the mask compares the ids with another sequence's, not with one padding id.
// CHECK-LABEL: module @mask_of_two_sequences
// CHECK-NOT:  rec.embedding_bag(%{{[0-9]+}}, %ids) :
// CHECK:      nn.matmul
module @mask_of_two_sequences {
  graph @main(%ids: tensor<2x4xi64>, %other: tensor<2x4xi64>) -> (y: tensor<2x1x2xf32>) {
    %t = nn.constant {value = dense<3x2xf32, [0.5, -1.0, 2.0, 1.5, 0.25, 1.0]>} : tensor<3x2xf32>
    %0 = nn.equal(%ids, %other) : tensor<2x4xbool>
    %1 = nn.not(%0) : tensor<2x4xbool>
    %2 = nn.unsqueeze(%1) {axes = [1]} : tensor<2x1x4xbool>
    %3 = nn.cast(%2) {to = "f32"} : tensor<2x1x4xf32>
    %4 = nn.gather(%t, %ids) {axis = 0} : tensor<2x4x2xf32>
    %5 = nn.matmul(%3, %4) : tensor<2x1x2xf32>
    return %5
  }
}
