// RUN: pimc opt %s -p canonicalize,fuse-interactions --split-input-file | filecheck %s

// A torch Linear (gemm with a transposed constant weight) and its relu: one rec.dense whose
// weight is [in, out].
// CHECK-LABEL: module @dense
// CHECK:      %[[W:.*]] = nn.constant {value = dense<3x2xf32, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]>} : tensor<3x2xf32>
// CHECK:      %[[B:.*]] = nn.constant {value = dense<2xf32, [0.5, -0.5]>} : tensor<2xf32>
// CHECK-NEXT: %{{.*}} = rec.dense(%x, %[[W]], %[[B]]) {activation = "relu"} : tensor<4x2xf32>
// CHECK-NOT:  nn.
module @dense {
  graph @main(%x: tensor<4x3xf32>) -> (y: tensor<4x2xf32>) {
    %w = nn.constant {value = dense<2x3xf32, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]>} : tensor<2x3xf32>
    %b = nn.constant {value = dense<2xf32, [0.5, -0.5]>} : tensor<2xf32>
    %0 = nn.gemm(%x, %w, %b) {trans_b = true} : tensor<4x2xf32>
    %1 = nn.relu(%0) : tensor<4x2xf32>
    return %1
  }
}

// -----

// A lookup of a constant table, then a sum over the bag axis: one pooled embedding bag.
// CHECK-LABEL: module @embedding
// CHECK:      %{{.*}} = rec.embedding_bag(%{{.*}}, %ids) : tensor<2x2xf32>
// CHECK-NOT:  nn.gather
// CHECK-NOT:  nn.reduce_sum
module @embedding {
  graph @main(%ids: tensor<2x3xi64>) -> (y: tensor<2x2xf32>) {
    %t = nn.constant {value = dense<4x2xf32, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]>} : tensor<4x2xf32>
    %0 = nn.gather(%t, %ids) : tensor<2x3x2xf32>
    %1 = nn.reduce_sum(%0) {axes = [1], keepdims = false} : tensor<2x2xf32>
    return %1
  }
}

// -----

// DLRM: Gram matrix of the features, its strictly lower triangle picked by flatten + gather.
// CHECK-LABEL: module @dot
// CHECK:      %{{.*}} = rec.dot_interaction(%x) : tensor<2x3xf32>
// CHECK-NOT:  nn.matmul
module @dot {
  graph @main(%x: tensor<2x3x4xf32>) -> (y: tensor<2x3xf32>) {
    %t = nn.transpose(%x) {perm = [0, 2, 1]} : tensor<2x4x3xf32>
    %z = nn.matmul(%x, %t) : tensor<2x3x3xf32>
    %f = nn.flatten(%z) {axis = 1} : tensor<2x9xf32>
    %i = nn.constant {value = dense<3xi64, [3, 6, 7]>} : tensor<3xi64>
    %0 = nn.gather(%f, %i) {axis = 1} : tensor<2x3xf32>
    return %0
  }
}

// -----

// The same Gram matrix with a selection that is no triangle stays as it is.
// CHECK-LABEL: module @not_a_triangle
// CHECK-NOT:  rec.dot_interaction
// CHECK:      nn.gather
module @not_a_triangle {
  graph @main(%x: tensor<2x3x4xf32>) -> (y: tensor<2x3xf32>) {
    %t = nn.transpose(%x) {perm = [0, 2, 1]} : tensor<2x4x3xf32>
    %z = nn.matmul(%x, %t) : tensor<2x3x3xf32>
    %f = nn.flatten(%z) {axis = 1} : tensor<2x9xf32>
    %i = nn.constant {value = dense<3xi64, [3, 6, 5]>} : tensor<3xi64>
    %0 = nn.gather(%f, %i) {axis = 1} : tensor<2x3xf32>
    return %0
  }
}

// -----

// DeepFM's FM term: 0.5 * sum_D((sum_F x)^2 - sum_F x*x), keepdims on the feature sums.
// CHECK-LABEL: module @fm
// CHECK:      %{{.*}} = rec.fm(%x) : tensor<2x1xf32>
// CHECK-NEXT: return
module @fm {
  graph @main(%x: tensor<2x3x4xf32>) -> (y: tensor<2x1xf32>) {
    %0 = nn.reduce_sum(%x) {axes = [1]} : tensor<2x1x4xf32>
    %two = nn.constant {value = dense<f32, [2.0]>} : tensor<f32>
    %1 = nn.pow(%0, %two) : tensor<2x1x4xf32>
    %2 = nn.mul(%x, %x) : tensor<2x3x4xf32>
    %3 = nn.reduce_sum(%2) {axes = [1]} : tensor<2x1x4xf32>
    %4 = nn.sub(%1, %3) : tensor<2x1x4xf32>
    %5 = nn.reduce_sum(%4) {axes = [2], keepdims = false} : tensor<2x1xf32>
    %half = nn.constant {value = dense<f32, [0.5]>} : tensor<f32>
    %6 = nn.mul(%5, %half) : tensor<2x1xf32>
    return %6
  }
}

// -----

// DCN's vector cross layer x0 * (x . w) + b + x, on rows.
// CHECK-LABEL: module @cross
// CHECK:      %{{.*}} = rec.cross(%x, %x, %{{.*}}, %{{.*}}) : tensor<2x3xf32>
// CHECK-NOT:  nn.
module @cross {
  graph @main(%x: tensor<2x3xf32>) -> (y: tensor<2x3xf32>) {
    %w = nn.constant {value = dense<3x1xf32, [0.5, -1.0, 2.0]>} : tensor<3x1xf32>
    %s = nn.matmul(%x, %w) : tensor<2x1xf32>
    %p = nn.mul(%x, %s) : tensor<2x3xf32>
    %b = nn.constant {value = dense<3xf32, [0.1, 0.2, 0.3]>} : tensor<3xf32>
    %q = nn.add(%p, %b) : tensor<2x3xf32>
    %0 = nn.add(%q, %x) : tensor<2x3xf32>
    return %0
  }
}

// -----

// Sigmoid gating and an FC over the token axis.
// CHECK-LABEL: module @gating_efc
// CHECK:      %[[G:.*]] = rec.gating(%x, %g) : tensor<2x3x4xf32>
// CHECK:      %{{.*}} = rec.efc(%[[G]], %{{.*}}) : tensor<2x2x4xf32>
module @gating_efc {
  graph @main(%x: tensor<2x3x4xf32>, %g: tensor<2x3x1xf32>) -> (y: tensor<2x2x4xf32>) {
    %s = nn.sigmoid(%g) : tensor<2x3x1xf32>
    %0 = nn.mul(%x, %s) : tensor<2x3x4xf32>
    %w = nn.constant {value = dense<3x2xf32, [1.0, 0.0, 0.0, 1.0, 1.0, 1.0]>} : tensor<3x2xf32>
    %1 = nn.einsum(%0, %w) {equation = "bfd,fg->bgd"} : tensor<2x2x4xf32>
    return %1
  }
}
