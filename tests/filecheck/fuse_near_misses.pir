// RUN: pimc opt %s -p canonicalize,fuse-interactions --split-input-file | filecheck %s

// Near misses of every fusion rule: each looks like a fused pattern in its shapes but reads
// another tensor, another axis or another layout, so fusing it would change the numbers.
// Each must stay unfused.

// Gram matrix whose right operand is the transpose of another tensor: T @ U^T is no
// dot interaction of T.
// CHECK-LABEL: module @gram_of_two_tensors
// CHECK-NOT:  rec.dot_interaction
// CHECK:      nn.matmul(%x, %{{.*}})
module @gram_of_two_tensors {
  graph @main(%x: tensor<2x3x4xf32>, %u: tensor<2x3x4xf32>) -> (y: tensor<2x3xf32>) {
    %t = nn.transpose(%u) {perm = [0, 2, 1]} : tensor<2x4x3xf32>
    %z = nn.matmul(%x, %t) : tensor<2x3x3xf32>
    %f = nn.flatten(%z) {axis = 1} : tensor<2x9xf32>
    %i = nn.constant {value = dense<3xi64, [3, 6, 7]>} : tensor<3xi64>
    %0 = nn.gather(%f, %i) {axis = 1} : tensor<2x3xf32>
    return %0
  }
}

// -----

// The einsum form with two different operands.
// CHECK-LABEL: module @gram_einsum_of_two_tensors
// CHECK-NOT:  rec.dot_interaction
// CHECK:      nn.einsum(%x, %u)
module @gram_einsum_of_two_tensors {
  graph @main(%x: tensor<2x3x4xf32>, %u: tensor<2x3x4xf32>) -> (y: tensor<2x3xf32>) {
    %z = nn.einsum(%x, %u) {equation = "bfd,bgd->bfg"} : tensor<2x3x3xf32>
    %f = nn.flatten(%z) {axis = 1} : tensor<2x9xf32>
    %i = nn.constant {value = dense<3xi64, [3, 6, 7]>} : tensor<3xi64>
    %0 = nn.gather(%f, %i) {axis = 1} : tensor<2x3xf32>
    return %0
  }
}

// -----

// An einsum that contracts the feature axis (T^T T, [B, D, D]) is no Gram of the features.
// CHECK-LABEL: module @gram_einsum_over_features
// CHECK-NOT:  rec.dot_interaction
// CHECK:      nn.einsum(%x, %x)
module @gram_einsum_over_features {
  graph @main(%x: tensor<2x3x3xf32>) -> (y: tensor<2x3xf32>) {
    %z = nn.einsum(%x, %x) {equation = "bfd,bfe->bde"} : tensor<2x3x3xf32>
    %f = nn.flatten(%z) {axis = 1} : tensor<2x9xf32>
    %i = nn.constant {value = dense<3xi64, [3, 6, 7]>} : tensor<3xi64>
    %0 = nn.gather(%f, %i) {axis = 1} : tensor<2x3xf32>
    return %0
  }
}

// -----

// The matmul form of the same: transpose(T) @ T.
// CHECK-LABEL: module @gram_matmul_over_features
// CHECK-NOT:  rec.dot_interaction
// CHECK:      nn.matmul
module @gram_matmul_over_features {
  graph @main(%x: tensor<2x3x3xf32>) -> (y: tensor<2x3xf32>) {
    %t = nn.transpose(%x) {perm = [0, 2, 1]} : tensor<2x3x3xf32>
    %z = nn.matmul(%t, %x) : tensor<2x3x3xf32>
    %f = nn.flatten(%z) {axis = 1} : tensor<2x9xf32>
    %i = nn.constant {value = dense<3xi64, [3, 6, 7]>} : tensor<3xi64>
    %0 = nn.gather(%f, %i) {axis = 1} : tensor<2x3xf32>
    return %0
  }
}

// -----

// A bias that varies along the rows ([N, 1]) is no dense bias: the dense stays bias-free.
// CHECK-LABEL: module @dense_bias_on_rows
// CHECK:      %[[D:.*]] = rec.dense(%x, %{{.*}}) : tensor<4x4xf32>
// CHECK:      nn.add(%{{.*}}, %[[D]])
module @dense_bias_on_rows {
  graph @main(%x: tensor<4x3xf32>) -> (y: tensor<4x4xf32>) {
    %w = nn.constant {value = dense<3x4xf32, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1.0, 2.0, 3.0]>} : tensor<3x4xf32>
    %c = nn.constant {value = dense<4x1xf32, [1.0, 2.0, 3.0, 4.0]>} : tensor<4x1xf32>
    %0 = nn.matmul(%x, %w) : tensor<4x4xf32>
    %1 = nn.add(%c, %0) : tensor<4x4xf32>
    return %1
  }
}

// -----

// An einsum that contracts the batch axis is no dense layer.
// CHECK-LABEL: module @dense_einsum_over_rows
// CHECK-NOT:  rec.dense
// CHECK:      nn.einsum
module @dense_einsum_over_rows {
  graph @main(%x: tensor<3x3xf32>) -> (y: tensor<3x2xf32>) {
    %w = nn.constant {value = dense<3x2xf32, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]>} : tensor<3x2xf32>
    %0 = nn.einsum(%x, %w) {equation = "ji,jk->ik"} : tensor<3x2xf32>
    return %0
  }
}

// -----

// gemm with a transposed input computes x^T W.
// CHECK-LABEL: module @dense_gemm_transposed_input
// CHECK-NOT:  rec.dense
// CHECK:      nn.gemm
module @dense_gemm_transposed_input {
  graph @main(%x: tensor<3x3xf32>) -> (y: tensor<3x2xf32>) {
    %w = nn.constant {value = dense<3x2xf32, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]>} : tensor<3x2xf32>
    %0 = nn.gemm(%x, %w) {trans_a = true} : tensor<3x2xf32>
    return %0
  }
}

// -----

// A sum of looked-up rows over the embedding axis (not the bag axis) is no pooled bag.
// CHECK-LABEL: module @embedding_sum_over_dim
// CHECK:      rec.embedding_bag(%{{.*}}, %ids) {mode = "none"}
// CHECK:      nn.reduce_sum
module @embedding_sum_over_dim {
  graph @main(%ids: tensor<2x3xi64>) -> (y: tensor<2x3xf32>) {
    %t = nn.constant {value = dense<4x2xf32, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]>} : tensor<4x2xf32>
    %0 = nn.gather(%t, %ids) : tensor<2x3x2xf32>
    %1 = nn.reduce_sum(%0) {axes = [2], keepdims = false} : tensor<2x3xf32>
    return %1
  }
}

// -----

// FM sums over the embedding axis instead of the feature axis.
// CHECK-LABEL: module @fm_wrong_axis
// CHECK-NOT:  rec.fm
// CHECK:      nn.sub
module @fm_wrong_axis {
  graph @main(%x: tensor<2x3x4xf32>) -> (y: tensor<2x3x1xf32>) {
    %0 = nn.reduce_sum(%x) {axes = [2]} : tensor<2x3x1xf32>
    %two = nn.constant {value = dense<f32, [2.0]>} : tensor<f32>
    %1 = nn.pow(%0, %two) : tensor<2x3x1xf32>
    %2 = nn.mul(%x, %x) : tensor<2x3x4xf32>
    %3 = nn.reduce_sum(%2) {axes = [2]} : tensor<2x3x1xf32>
    %4 = nn.sub(%1, %3) : tensor<2x3x1xf32>
    %half = nn.constant {value = dense<f32, [0.5]>} : tensor<f32>
    %5 = nn.mul(%4, %half) : tensor<2x3x1xf32>
    return %5
  }
}

// -----

// The square of the sum of x minus the sum of squares of another tensor.
// CHECK-LABEL: module @fm_two_tensors
// CHECK-NOT:  rec.fm
// CHECK:      nn.sub
module @fm_two_tensors {
  graph @main(%x: tensor<2x3x4xf32>, %u: tensor<2x3x4xf32>) -> (y: tensor<2x1x4xf32>) {
    %0 = nn.reduce_sum(%x) {axes = [1]} : tensor<2x1x4xf32>
    %1 = nn.mul(%0, %0) : tensor<2x1x4xf32>
    %2 = nn.mul(%u, %u) : tensor<2x3x4xf32>
    %3 = nn.reduce_sum(%2) {axes = [1]} : tensor<2x1x4xf32>
    %4 = nn.sub(%1, %3) : tensor<2x1x4xf32>
    %half = nn.constant {value = dense<f32, [0.5]>} : tensor<f32>
    %5 = nn.mul(%4, %half) : tensor<2x1x4xf32>
    return %5
  }
}

// -----

// The subtraction the other way round is minus the FM term.
// CHECK-LABEL: module @fm_reversed_difference
// CHECK-NOT:  rec.fm
// CHECK:      nn.sub
module @fm_reversed_difference {
  graph @main(%x: tensor<2x3x4xf32>) -> (y: tensor<2x1x4xf32>) {
    %0 = nn.reduce_sum(%x) {axes = [1]} : tensor<2x1x4xf32>
    %1 = nn.mul(%0, %0) : tensor<2x1x4xf32>
    %2 = nn.mul(%x, %x) : tensor<2x3x4xf32>
    %3 = nn.reduce_sum(%2) {axes = [1]} : tensor<2x1x4xf32>
    %4 = nn.sub(%3, %1) : tensor<2x1x4xf32>
    %half = nn.constant {value = dense<f32, [0.5]>} : tensor<f32>
    %5 = nn.mul(%4, %half) : tensor<2x1x4xf32>
    return %5
  }
}

// -----

// A product of two different tensors is no square.
// CHECK-LABEL: module @fm_not_a_square
// CHECK-NOT:  rec.fm
// CHECK:      nn.sub
module @fm_not_a_square {
  graph @main(%x: tensor<2x3x4xf32>, %u: tensor<2x3x4xf32>) -> (y: tensor<2x1x4xf32>) {
    %0 = nn.reduce_sum(%x) {axes = [1]} : tensor<2x1x4xf32>
    %1 = nn.mul(%0, %0) : tensor<2x1x4xf32>
    %2 = nn.mul(%x, %u) : tensor<2x3x4xf32>
    %3 = nn.reduce_sum(%2) {axes = [1]} : tensor<2x1x4xf32>
    %4 = nn.sub(%1, %3) : tensor<2x1x4xf32>
    %half = nn.constant {value = dense<f32, [0.5]>} : tensor<f32>
    %5 = nn.mul(%4, %half) : tensor<2x1x4xf32>
    return %5
  }
}

// -----

// A vector cross whose bias varies along the rows ([B, 1]) is no cross layer.
// CHECK-LABEL: module @cross_bias_on_rows
// CHECK-NOT:  rec.cross
// CHECK:      nn.mul
module @cross_bias_on_rows {
  graph @main(%x: tensor<2x3xf32>) -> (y: tensor<2x3xf32>) {
    %w = nn.constant {value = dense<3x1xf32, [0.5, -1.0, 2.0]>} : tensor<3x1xf32>
    %s = nn.matmul(%x, %w) : tensor<2x1xf32>
    %p = nn.mul(%x, %s) : tensor<2x3xf32>
    %b = nn.constant {value = dense<2x1xf32, [0.1, 0.2]>} : tensor<2x1xf32>
    %q = nn.add(%p, %b) : tensor<2x3xf32>
    %0 = nn.add(%q, %x) : tensor<2x3xf32>
    return %0
  }
}

// -----

// A per-row scalar reshaped into a row ([1, B]) multiplies columns, not rows (B = D here, so
// the shapes alone cannot tell).
// CHECK-LABEL: module @cross_scalar_per_column
// CHECK-NOT:  rec.cross
// CHECK:      nn.mul
module @cross_scalar_per_column {
  graph @main(%x: tensor<3x3xf32>) -> (y: tensor<3x3xf32>) {
    %w = nn.constant {value = dense<3x1xf32, [0.5, -1.0, 2.0]>} : tensor<3x1xf32>
    %s = nn.matmul(%x, %w) : tensor<3x1xf32>
    %r = nn.reshape(%s) {shape = [1, 3]} : tensor<1x3xf32>
    %p = nn.mul(%x, %r) : tensor<3x3xf32>
    %b = nn.constant {value = dense<3xf32, [0.1, 0.2, 0.3]>} : tensor<3xf32>
    %q = nn.add(%p, %b) : tensor<3x3xf32>
    %0 = nn.add(%q, %x) : tensor<3x3xf32>
    return %0
  }
}

// -----

// The residual is another tensor than the one the linear map reads.
// CHECK-LABEL: module @cross_other_residual
// CHECK-NOT:  rec.cross
// CHECK:      nn.mul
module @cross_other_residual {
  graph @main(%x: tensor<2x3xf32>, %u: tensor<2x3xf32>) -> (y: tensor<2x3xf32>) {
    %w = nn.constant {value = dense<3x1xf32, [0.5, -1.0, 2.0]>} : tensor<3x1xf32>
    %s = nn.matmul(%x, %w) : tensor<2x1xf32>
    %p = nn.mul(%x, %s) : tensor<2x3xf32>
    %b = nn.constant {value = dense<3xf32, [0.1, 0.2, 0.3]>} : tensor<3xf32>
    %q = nn.add(%p, %b) : tensor<2x3xf32>
    %0 = nn.add(%q, %u) : tensor<2x3xf32>
    return %0
  }
}

// -----

// A tanh gate is no sigmoid gating.
// CHECK-LABEL: module @gating_tanh
// CHECK-NOT:  rec.gating
// CHECK:      nn.mul
module @gating_tanh {
  graph @main(%x: tensor<2x3x4xf32>, %g: tensor<2x3x1xf32>) -> (y: tensor<2x3x4xf32>) {
    %s = nn.tanh(%g) : tensor<2x3x1xf32>
    %0 = nn.mul(%x, %s) : tensor<2x3x4xf32>
    return %0
  }
}

// -----

// An einsum that puts the new token axis last ('bfd,fg->bdg') is no efc.
// CHECK-LABEL: module @efc_tokens_last
// CHECK-NOT:  rec.efc
// CHECK:      nn.einsum
module @efc_tokens_last {
  graph @main(%x: tensor<2x3x4xf32>) -> (y: tensor<2x4x2xf32>) {
    %w = nn.constant {value = dense<3x2xf32, [1.0, 0.0, 0.0, 1.0, 1.0, 1.0]>} : tensor<3x2xf32>
    %0 = nn.einsum(%x, %w) {equation = "bfd,fg->bdg"} : tensor<2x4x2xf32>
    return %0
  }
}

// -----

// An efc followed by an add that differs between batch rows is no efc bias.
// CHECK-LABEL: module @efc_bias_per_batch_row
// CHECK:      %[[E:.*]] = rec.efc(%x, %{{.*}}) : tensor<2x2x4xf32>
// CHECK:      nn.add(%[[E]], %{{.*}})
module @efc_bias_per_batch_row {
  graph @main(%x: tensor<2x3x4xf32>) -> (y: tensor<2x2x4xf32>) {
    %w = nn.constant {value = dense<3x2xf32, [1.0, 0.0, 0.0, 1.0, 1.0, 1.0]>} : tensor<3x2xf32>
    %0 = nn.einsum(%x, %w) {equation = "bfd,fg->bgd"} : tensor<2x2x4xf32>
    %b = nn.constant {value = dense<2x2x1xf32, [1.0, 2.0, 3.0, 4.0]>} : tensor<2x2x1xf32>
    %1 = nn.add(%0, %b) : tensor<2x2x4xf32>
    return %1
  }
}

// -----

// transpose -> matmul -> a transpose that does not swap back is no efc.
// CHECK-LABEL: module @efc_not_swapped_back
// CHECK-NOT:  rec.efc
// CHECK:      nn.transpose
module @efc_not_swapped_back {
  graph @main(%x: tensor<2x3x3xf32>) -> (y: tensor<3x2x2xf32>) {
    %t = nn.transpose(%x) {perm = [0, 2, 1]} : tensor<2x3x3xf32>
    %w = nn.constant {value = dense<3x2xf32, [1.0, 0.0, 0.0, 1.0, 1.0, 1.0]>} : tensor<3x2xf32>
    %m = nn.matmul(%t, %w) : tensor<2x3x2xf32>
    %0 = nn.transpose(%m) {perm = [1, 0, 2]} : tensor<3x2x2xf32>
    return %0
  }
}
