// RUN: pimc opt %s -p canonicalize,fuse-interactions --split-input-file | filecheck %s

// Field-weighted FM as RecBole writes it: each one-pair product times its field pair's
// weight r (a [B, 1] constant, one number), stacked, summed over the pairs, then over D:
// the inner products of all pairs, times r, summed over the pairs.
// CHECK-LABEL: module @fwfm
// CHECK-NOT:  nn.gather
// CHECK:      %[[P:.*]] = rec.pairwise(%x) {left = [0, 0, 1], right = [1, 2, 2], reduce = true} : tensor<2x3xf32>
// CHECK-NEXT: %[[R:.*]] = nn.constant {value = dense<1x3xf32, [0.5, -2.0, 1.25]>} : tensor<1x3xf32>
// CHECK-NEXT: %[[W:.*]] = nn.mul(%[[P]], %[[R]]) : tensor<2x3xf32>
// CHECK-NEXT: %[[S:.*]] = nn.reduce_sum(%[[W]]) {axes = [1]} : tensor<2x1xf32>
// CHECK-NEXT: return %[[S]]
module @fwfm {
  graph @main(%x: tensor<2x3x4xf32>) -> (y: tensor<2x1xf32>) {
    %i0 = nn.constant {value = dense<i64, [0]>} : tensor<i64>
    %i1 = nn.constant {value = dense<i64, [1]>} : tensor<i64>
    %i2 = nn.constant {value = dense<i64, [2]>} : tensor<i64>
    %r01 = nn.constant {value = dense<2x1xf32, [0.5, 0.5]>} : tensor<2x1xf32>
    %r02 = nn.constant {value = dense<2x1xf32, [-2.0, -2.0]>} : tensor<2x1xf32>
    %r12 = nn.constant {value = dense<2x1xf32, [1.25, 1.25]>} : tensor<2x1xf32>
    %x0 = nn.gather(%x, %i0) {axis = 1} : tensor<2x4xf32>
    %x1 = nn.gather(%x, %i1) {axis = 1} : tensor<2x4xf32>
    %x2 = nn.gather(%x, %i2) {axis = 1} : tensor<2x4xf32>
    %p01 = nn.mul(%x0, %x1) : tensor<2x4xf32>
    %w01 = nn.mul(%p01, %r01) : tensor<2x4xf32>
    %p02 = nn.mul(%x0, %x2) : tensor<2x4xf32>
    %w02 = nn.mul(%p02, %r02) : tensor<2x4xf32>
    %p12 = nn.mul(%x1, %x2) : tensor<2x4xf32>
    %w12 = nn.mul(%p12, %r12) : tensor<2x4xf32>
    %u01 = nn.unsqueeze(%w01) {axes = [1]} : tensor<2x1x4xf32>
    %u02 = nn.unsqueeze(%w02) {axes = [1]} : tensor<2x1x4xf32>
    %u12 = nn.unsqueeze(%w12) {axes = [1]} : tensor<2x1x4xf32>
    %s = nn.concat(%u01, %u02, %u12) {axis = 1} : tensor<2x3x4xf32>
    %t = nn.reduce_sum(%s) {axes = [1], keepdims = false} : tensor<2x4xf32>
    %y = nn.reduce_sum(%t) {axes = [1], keepdims = true} : tensor<2x1xf32>
    return %y
  }
}

// -----

// Near miss: the first pair's weight differs between the two batch rows, so it is no field
// pair weight: the one-pair products and their weights stay, nothing is concatenated.
// CHECK-LABEL: module @weight_varies_over_batch
// CHECK-NOT:  reduce = true
// CHECK:      nn.concat
module @weight_varies_over_batch {
  graph @main(%x: tensor<2x3x4xf32>) -> (y: tensor<2x1xf32>) {
    %i0 = nn.constant {value = dense<i64, [0]>} : tensor<i64>
    %i1 = nn.constant {value = dense<i64, [1]>} : tensor<i64>
    %i2 = nn.constant {value = dense<i64, [2]>} : tensor<i64>
    %r01 = nn.constant {value = dense<2x1xf32, [0.5, 0.75]>} : tensor<2x1xf32>
    %r02 = nn.constant {value = dense<2x1xf32, [-2.0, -2.0]>} : tensor<2x1xf32>
    %x0 = nn.gather(%x, %i0) {axis = 1} : tensor<2x4xf32>
    %x1 = nn.gather(%x, %i1) {axis = 1} : tensor<2x4xf32>
    %x2 = nn.gather(%x, %i2) {axis = 1} : tensor<2x4xf32>
    %p01 = nn.mul(%x0, %x1) : tensor<2x4xf32>
    %w01 = nn.mul(%p01, %r01) : tensor<2x4xf32>
    %p02 = nn.mul(%x0, %x2) : tensor<2x4xf32>
    %w02 = nn.mul(%p02, %r02) : tensor<2x4xf32>
    %u01 = nn.unsqueeze(%w01) {axes = [1]} : tensor<2x1x4xf32>
    %u02 = nn.unsqueeze(%w02) {axes = [1]} : tensor<2x1x4xf32>
    %s = nn.concat(%u01, %u02) {axis = 1} : tensor<2x2x4xf32>
    %t = nn.reduce_sum(%s) {axes = [1], keepdims = false} : tensor<2x4xf32>
    %y = nn.reduce_sum(%t) {axes = [1], keepdims = true} : tensor<2x1xf32>
    return %y
  }
}
