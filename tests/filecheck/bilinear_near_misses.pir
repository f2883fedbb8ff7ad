// RUN: pimc opt %s -p canonicalize,fuse-interactions --split-input-file | filecheck %s

// FiBiNET's form: fields split off [B, F, D], one bias-free dense per pair, times the other
// field, concatenated over the pair axis: one rec.bilinear with a weight per pair.
// CHECK-LABEL: module @fibinet_pairs
// CHECK-NOT:  nn.mul
// CHECK:      nn.constant {value = dense<2x2x2xf32, [0.5, -1.0, 2.0, 1.5, 0.25, 1.0, -2.0, 0.75]>} : tensor<2x2x2xf32>
// CHECK-NEXT: rec.bilinear(%{{[^,]*}}, %x) {left = [0, 1], right = [1, 2]} : tensor<2x2x2xf32>
// CHECK-NEXT: return
module @fibinet_pairs {
  graph @main(%x: tensor<2x3x2xf32>) -> (y: tensor<2x2x2xf32>) {
    %w0 = nn.constant {value = dense<2x2xf32, [0.5, -1.0, 2.0, 1.5]>} : tensor<2x2xf32>
    %w1 = nn.constant {value = dense<2x2xf32, [0.25, 1.0, -2.0, 0.75]>} : tensor<2x2xf32>
    %f0, %f1, %f2 = nn.split(%x) {axis = 1, sizes = [1, 1, 1]} : tensor<2x1x2xf32>, tensor<2x1x2xf32>, tensor<2x1x2xf32>
    %0 = nn.matmul(%f0, %w0) : tensor<2x1x2xf32>
    %1 = nn.mul(%0, %f1) : tensor<2x1x2xf32>
    %2 = nn.matmul(%f1, %w1) : tensor<2x1x2xf32>
    %3 = nn.mul(%2, %f2) : tensor<2x1x2xf32>
    %4 = nn.concat(%1, %3) {axis = 1} : tensor<2x2x2xf32>
    return %4
  }
}

// -----

// Near miss: the dense has a bias, (x W + b) * y is no bilinear form.
// CHECK-LABEL: module @dense_with_bias
// CHECK-NOT:  rec.bilinear
// CHECK:      nn.mul
module @dense_with_bias {
  graph @main(%x: tensor<2x3x2xf32>) -> (y: tensor<2x1x2xf32>) {
    %w0 = nn.constant {value = dense<2x2xf32, [0.5, -1.0, 2.0, 1.5]>} : tensor<2x2xf32>
    %b0 = nn.constant {value = dense<2xf32, [1.0, -1.0]>} : tensor<2xf32>
    %f0, %f1, %f2 = nn.split(%x) {axis = 1, sizes = [1, 1, 1]} : tensor<2x1x2xf32>, tensor<2x1x2xf32>, tensor<2x1x2xf32>
    %0 = nn.matmul(%f0, %w0) : tensor<2x1x2xf32>
    %1 = nn.add(%0, %b0) : tensor<2x1x2xf32>
    %2 = nn.mul(%1, %f1) : tensor<2x1x2xf32>
    return %2
  }
}

// -----

// Near miss: one factor holds two fields, the other one: the product broadcasts.
// CHECK-LABEL: module @uneven_fields
// CHECK-NOT:  rec.bilinear
// CHECK:      nn.mul
module @uneven_fields {
  graph @main(%x: tensor<2x3x2xf32>) -> (y: tensor<2x2x2xf32>) {
    %w0 = nn.constant {value = dense<2x2xf32, [0.5, -1.0, 2.0, 1.5]>} : tensor<2x2xf32>
    %f0, %f1 = nn.split(%x) {axis = 1, sizes = [1, 2]} : tensor<2x1x2xf32>, tensor<2x2x2xf32>
    %0 = nn.matmul(%f0, %w0) : tensor<2x1x2xf32>
    %1 = nn.mul(%0, %f1) : tensor<2x2x2xf32>
    return %1
  }
}

// -----

// Near miss: a split over D (axis 2) picks halves of every embedding, not fields.
// CHECK-LABEL: module @split_over_dim
// CHECK-NOT:  rec.bilinear
// CHECK:      nn.mul
module @split_over_dim {
  graph @main(%x: tensor<2x3x4xf32>) -> (y: tensor<2x3x2xf32>) {
    %w0 = nn.constant {value = dense<2x2xf32, [0.5, -1.0, 2.0, 1.5]>} : tensor<2x2xf32>
    %f0, %f1 = nn.split(%x) {axis = 2, sizes = [2, 2]} : tensor<2x3x2xf32>, tensor<2x3x2xf32>
    %0 = nn.matmul(%f0, %w0) : tensor<2x3x2xf32>
    %1 = nn.mul(%0, %f1) : tensor<2x3x2xf32>
    return %1
  }
}
