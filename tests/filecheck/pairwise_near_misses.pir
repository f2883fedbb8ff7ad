// RUN: pimc opt %s -p canonicalize,fuse-interactions --split-input-file | filecheck %s

// Field-aware pairs over two embedding spaces: one-pair products, concatenated over the pair
// axis, and summed over D: one rec.pairwise with inner products.
// CHECK-LABEL: module @field_aware
// CHECK-NOT:  nn.gather
// CHECK:      rec.pairwise(%b, %a) {left = [0, 1], right = [4, 5], reduce = true} : tensor<2x2xf32>
// CHECK-NEXT: return
module @field_aware {
  graph @main(%a: tensor<2x3x4xf32>, %b: tensor<2x3x4xf32>) -> (y: tensor<2x2xf32>) {
    %i0 = nn.constant {value = dense<i64, [0]>} : tensor<i64>
    %i1 = nn.constant {value = dense<i64, [1]>} : tensor<i64>
    %i2 = nn.constant {value = dense<i64, [2]>} : tensor<i64>
    %0 = nn.gather(%b, %i0) {axis = 1} : tensor<2x4xf32>
    %1 = nn.gather(%a, %i1) {axis = 1} : tensor<2x4xf32>
    %2 = nn.mul(%0, %1) : tensor<2x4xf32>
    %3 = nn.gather(%b, %i1) {axis = 1} : tensor<2x4xf32>
    %4 = nn.gather(%a, %i2) {axis = 1} : tensor<2x4xf32>
    %5 = nn.mul(%3, %4) : tensor<2x4xf32>
    %6 = nn.unsqueeze(%2) {axes = [1]} : tensor<2x1x4xf32>
    %7 = nn.unsqueeze(%5) {axes = [1]} : tensor<2x1x4xf32>
    %8 = nn.concat(%6, %7) {axis = 1} : tensor<2x2x4xf32>
    %9 = nn.reduce_sum(%8) {axes = [2], keepdims = false} : tensor<2x2xf32>
    return %9
  }
}

// -----

// Near miss: gathers over D (axis 2) pick elements, not fields.
// CHECK-LABEL: module @gather_over_dim
// CHECK-NOT:  rec.pairwise
// CHECK:      nn.mul
module @gather_over_dim {
  graph @main(%a: tensor<2x3x4xf32>) -> (y: tensor<2x3x2xf32>) {
    %i = nn.constant {value = dense<2xi64, [0, 1]>} : tensor<2xi64>
    %j = nn.constant {value = dense<2xi64, [2, 3]>} : tensor<2xi64>
    %0 = nn.gather(%a, %i) {axis = 2} : tensor<2x3x2xf32>
    %1 = nn.gather(%a, %j) {axis = 2} : tensor<2x3x2xf32>
    %2 = nn.mul(%0, %1) : tensor<2x3x2xf32>
    return %2
  }
}

// -----

// Near miss: one field times a list of fields broadcasts one row against every pair.
// CHECK-LABEL: module @broadcast_pair
// CHECK-NOT:  rec.pairwise
// CHECK:      nn.mul
module @broadcast_pair {
  graph @main(%a: tensor<2x3x4xf32>) -> (y: tensor<2x2x4xf32>) {
    %i = nn.constant {value = dense<1xi64, [0]>} : tensor<1xi64>
    %j = nn.constant {value = dense<2xi64, [1, 2]>} : tensor<2xi64>
    %0 = nn.gather(%a, %i) {axis = 1} : tensor<2x1x4xf32>
    %1 = nn.gather(%a, %j) {axis = 1} : tensor<2x2x4xf32>
    %2 = nn.mul(%0, %1) : tensor<2x2x4xf32>
    return %2
  }
}

// -----

// Near miss: field indices that are a graph input are not known at compile time.
// CHECK-LABEL: module @runtime_fields
// CHECK-NOT:  rec.pairwise
// CHECK:      nn.mul
module @runtime_fields {
  graph @main(%a: tensor<2x3x4xf32>, %i: tensor<2xi64>) -> (y: tensor<2x2x4xf32>) {
    %j = nn.constant {value = dense<2xi64, [1, 2]>} : tensor<2xi64>
    %0 = nn.gather(%a, %i) {axis = 1} : tensor<2x2x4xf32>
    %1 = nn.gather(%a, %j) {axis = 1} : tensor<2x2x4xf32>
    %2 = nn.mul(%0, %1) : tensor<2x2x4xf32>
    return %2
  }
}

// -----

// Near miss: a concat that mixes pair products with another tensor stays a concat, and a
// sum over the pairs (axis 1) is no inner product.
// CHECK-LABEL: module @mixed_concat
// CHECK:      rec.pairwise(%a) {left = [0], right = [1]} : tensor<2x1x4xf32>
// CHECK:      nn.concat
// CHECK:      nn.reduce_sum
module @mixed_concat {
  graph @main(%a: tensor<2x3x4xf32>, %u: tensor<2x1x4xf32>) -> (y: tensor<2x4xf32>) {
    %i = nn.constant {value = dense<1xi64, [0]>} : tensor<1xi64>
    %j = nn.constant {value = dense<1xi64, [1]>} : tensor<1xi64>
    %0 = nn.gather(%a, %i) {axis = 1} : tensor<2x1x4xf32>
    %1 = nn.gather(%a, %j) {axis = 1} : tensor<2x1x4xf32>
    %2 = nn.mul(%0, %1) : tensor<2x1x4xf32>
    %3 = nn.concat(%2, %u) {axis = 1} : tensor<2x2x4xf32>
    %4 = nn.reduce_sum(%3) {axes = [1], keepdims = false} : tensor<2x4xf32>
    return %4
  }
}
