// RUN: pimc opt %s -p canonicalize,fuse-interactions --split-input-file | filecheck %s

// A key-padding mask from the history's padding ids (BST): one rec.attention, the mask the
// [B, 1, 1, F] reshape of the computed where, not expanded over the heads; no softmax left.
// CHECK-LABEL: module @key_padding
// CHECK:       [[MASK:%.+]] = nn.where(
// CHECK-NOT:   nn.softmax
// CHECK:       [[KEYS:%.+]] = nn.reshape([[MASK]]) {shape = [2, 1, 1, 3]} : tensor<2x1x1x3xf32>
// CHECK:       rec.attention(%x, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, [[KEYS]]) {heads = 2, scale = 0.7071068{{[0-9]*}}} : tensor<2x3x4xf32>
// CHECK-NOT:   nn.softmax
// CHECK-NOT:   nn.expand
// CHECK-NOT:   nn.matmul
module @key_padding {
  graph @main(%x: tensor<2x3x2xf32>, %ids: tensor<2x2xi64>) -> (out0: tensor<6x4xf32>) {
    %0 = nn.transpose(%x) {perm = [1, 0, 2]} : tensor<3x2x2xf32>
    %1 = nn.constant {value = dense<2x12xf32, [2.04, -2.56, 0.42, -0.57, -0.45, -0.22, -2.02, -0.23, -0.87, 3.32, 0.23, -0.35, -0.28, -0.67, -1.06, -0.39, 0.48, -0.24, 0.96, -0.2, 0.02, 1.55, 0.55, -0.51]>} : tensor<2x12xf32>
    %2 = nn.matmul(%0, %1) : tensor<3x2x12xf32>
    %3 = nn.constant {value = dense<12xf32, [-0.18, 0.54, 1.94, -0.27, -0.24, 1.0, -0.89, -0.29, 0.88, 0.58, 0.09, 0.67]>} : tensor<12xf32>
    %4 = nn.add(%2, %3) : tensor<3x2x12xf32>
    %5 = nn.slice(%4) {starts = [0], ends = [4], axes = [2]} : tensor<3x2x4xf32>
    %6 = nn.reshape(%5) {shape = [3, 4, 2]} : tensor<3x4x2xf32>
    %7 = nn.transpose(%6) {perm = [1, 0, 2]} : tensor<4x3x2xf32>
    %8 = nn.reshape(%7) {shape = [2, 2, 3, 2]} : tensor<2x2x3x2xf32>
    %9 = nn.slice(%4) {starts = [4], ends = [8], axes = [2]} : tensor<3x2x4xf32>
    %10 = nn.reshape(%9) {shape = [3, 4, 2]} : tensor<3x4x2xf32>
    %11 = nn.transpose(%10) {perm = [1, 0, 2]} : tensor<4x3x2xf32>
    %12 = nn.reshape(%11) {shape = [2, 2, 3, 2]} : tensor<2x2x3x2xf32>
    %13 = nn.slice(%4) {starts = [8], ends = [12], axes = [2]} : tensor<3x2x4xf32>
    %14 = nn.reshape(%13) {shape = [3, 4, 2]} : tensor<3x4x2xf32>
    %15 = nn.transpose(%14) {perm = [1, 0, 2]} : tensor<4x3x2xf32>
    %16 = nn.reshape(%15) {shape = [2, 2, 3, 2]} : tensor<2x2x3x2xf32>
    %17 = nn.constant {value = dense<i64, [0]>} : tensor<i64>
    %18 = nn.equal(%ids, %17) : tensor<2x2xbool>
    %19 = nn.constant {value = dense<2x1xbool, [false, false]>} : tensor<2x1xbool>
    %20 = nn.concat(%18, %19) {axis = 1} : tensor<2x3xbool>
    %21 = nn.constant {value = dense<f32, [-inf]>} : tensor<f32>
    %22 = nn.constant {value = dense<2x3xf32, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]>} : tensor<2x3xf32>
    %23 = nn.where(%20, %21, %22) : tensor<2x3xf32>
    %24 = nn.reshape(%23) {shape = [2, 1, 1, 3]} : tensor<2x1x1x3xf32>
    %25 = nn.expand(%24) {shape = [1, 2, 1, 1]} : tensor<2x2x1x3xf32>
    %26 = nn.transpose(%12) {perm = [0, 1, 3, 2]} : tensor<2x2x2x3xf32>
    %27 = nn.constant {value = dense<1xf32, [0.8408964]>} : tensor<1xf32>
    %28 = nn.mul(%26, %27) : tensor<2x2x2x3xf32>
    %29 = nn.mul(%8, %27) : tensor<2x2x3x2xf32>
    %30 = nn.matmul(%29, %28) : tensor<2x2x3x3xf32>
    %31 = nn.add(%30, %25) : tensor<2x2x3x3xf32>
    %32 = nn.softmax(%31) : tensor<2x2x3x3xf32>
    %33 = nn.matmul(%32, %16) : tensor<2x2x3x2xf32>
    %34 = nn.transpose(%33) {perm = [2, 0, 1, 3]} : tensor<3x2x2x2xf32>
    %35 = nn.reshape(%34) {shape = [6, 4]} : tensor<6x4xf32>
    return %35
  }
}

// -----

// Near miss: the mask is added to the attention weights after the softmax.
// CHECK-LABEL: module @mask_after_softmax
// CHECK-NOT:   rec.attention
// CHECK:       nn.softmax
// CHECK-NOT:   rec.attention
module @mask_after_softmax {
  graph @main(%x: tensor<2x3x2xf32>, %ids: tensor<2x2xi64>) -> (out0: tensor<6x4xf32>) {
    %0 = nn.transpose(%x) {perm = [1, 0, 2]} : tensor<3x2x2xf32>
    %1 = nn.constant {value = dense<2x12xf32, [2.04, -2.56, 0.42, -0.57, -0.45, -0.22, -2.02, -0.23, -0.87, 3.32, 0.23, -0.35, -0.28, -0.67, -1.06, -0.39, 0.48, -0.24, 0.96, -0.2, 0.02, 1.55, 0.55, -0.51]>} : tensor<2x12xf32>
    %2 = nn.matmul(%0, %1) : tensor<3x2x12xf32>
    %3 = nn.constant {value = dense<12xf32, [-0.18, 0.54, 1.94, -0.27, -0.24, 1.0, -0.89, -0.29, 0.88, 0.58, 0.09, 0.67]>} : tensor<12xf32>
    %4 = nn.add(%2, %3) : tensor<3x2x12xf32>
    %5 = nn.slice(%4) {starts = [0], ends = [4], axes = [2]} : tensor<3x2x4xf32>
    %6 = nn.reshape(%5) {shape = [3, 4, 2]} : tensor<3x4x2xf32>
    %7 = nn.transpose(%6) {perm = [1, 0, 2]} : tensor<4x3x2xf32>
    %8 = nn.reshape(%7) {shape = [2, 2, 3, 2]} : tensor<2x2x3x2xf32>
    %9 = nn.slice(%4) {starts = [4], ends = [8], axes = [2]} : tensor<3x2x4xf32>
    %10 = nn.reshape(%9) {shape = [3, 4, 2]} : tensor<3x4x2xf32>
    %11 = nn.transpose(%10) {perm = [1, 0, 2]} : tensor<4x3x2xf32>
    %12 = nn.reshape(%11) {shape = [2, 2, 3, 2]} : tensor<2x2x3x2xf32>
    %13 = nn.slice(%4) {starts = [8], ends = [12], axes = [2]} : tensor<3x2x4xf32>
    %14 = nn.reshape(%13) {shape = [3, 4, 2]} : tensor<3x4x2xf32>
    %15 = nn.transpose(%14) {perm = [1, 0, 2]} : tensor<4x3x2xf32>
    %16 = nn.reshape(%15) {shape = [2, 2, 3, 2]} : tensor<2x2x3x2xf32>
    %17 = nn.constant {value = dense<i64, [0]>} : tensor<i64>
    %18 = nn.equal(%ids, %17) : tensor<2x2xbool>
    %19 = nn.constant {value = dense<2x1xbool, [false, false]>} : tensor<2x1xbool>
    %20 = nn.concat(%18, %19) {axis = 1} : tensor<2x3xbool>
    %21 = nn.constant {value = dense<f32, [-10000.0]>} : tensor<f32>
    %22 = nn.constant {value = dense<2x3xf32, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]>} : tensor<2x3xf32>
    %23 = nn.where(%20, %21, %22) : tensor<2x3xf32>
    %24 = nn.reshape(%23) {shape = [2, 1, 1, 3]} : tensor<2x1x1x3xf32>
    %25 = nn.expand(%24) {shape = [1, 2, 1, 1]} : tensor<2x2x1x3xf32>
    %26 = nn.transpose(%12) {perm = [0, 1, 3, 2]} : tensor<2x2x2x3xf32>
    %27 = nn.constant {value = dense<1xf32, [0.8408964]>} : tensor<1xf32>
    %28 = nn.mul(%26, %27) : tensor<2x2x2x3xf32>
    %29 = nn.mul(%8, %27) : tensor<2x2x3x2xf32>
    %30 = nn.matmul(%29, %28) : tensor<2x2x3x3xf32>
    %31 = nn.softmax(%30) : tensor<2x2x3x3xf32>
    %32 = nn.add(%31, %25) : tensor<2x2x3x3xf32>
    %33 = nn.matmul(%32, %16) : tensor<2x2x3x2xf32>
    %34 = nn.transpose(%33) {perm = [2, 0, 1, 3]} : tensor<3x2x2x2xf32>
    %35 = nn.reshape(%34) {shape = [6, 4]} : tensor<6x4xf32>
    return %35
  }
}

// -----

// Near miss: the scale multiplies the masked scores, so the mask is scaled too.
// CHECK-LABEL: module @scale_after_mask
// CHECK-NOT:   rec.attention
// CHECK:       nn.softmax
// CHECK-NOT:   rec.attention
module @scale_after_mask {
  graph @main(%x: tensor<2x3x2xf32>, %ids: tensor<2x2xi64>) -> (out0: tensor<6x4xf32>) {
    %0 = nn.transpose(%x) {perm = [1, 0, 2]} : tensor<3x2x2xf32>
    %1 = nn.constant {value = dense<2x12xf32, [2.04, -2.56, 0.42, -0.57, -0.45, -0.22, -2.02, -0.23, -0.87, 3.32, 0.23, -0.35, -0.28, -0.67, -1.06, -0.39, 0.48, -0.24, 0.96, -0.2, 0.02, 1.55, 0.55, -0.51]>} : tensor<2x12xf32>
    %2 = nn.matmul(%0, %1) : tensor<3x2x12xf32>
    %3 = nn.constant {value = dense<12xf32, [-0.18, 0.54, 1.94, -0.27, -0.24, 1.0, -0.89, -0.29, 0.88, 0.58, 0.09, 0.67]>} : tensor<12xf32>
    %4 = nn.add(%2, %3) : tensor<3x2x12xf32>
    %5 = nn.slice(%4) {starts = [0], ends = [4], axes = [2]} : tensor<3x2x4xf32>
    %6 = nn.reshape(%5) {shape = [3, 4, 2]} : tensor<3x4x2xf32>
    %7 = nn.transpose(%6) {perm = [1, 0, 2]} : tensor<4x3x2xf32>
    %8 = nn.reshape(%7) {shape = [2, 2, 3, 2]} : tensor<2x2x3x2xf32>
    %9 = nn.slice(%4) {starts = [4], ends = [8], axes = [2]} : tensor<3x2x4xf32>
    %10 = nn.reshape(%9) {shape = [3, 4, 2]} : tensor<3x4x2xf32>
    %11 = nn.transpose(%10) {perm = [1, 0, 2]} : tensor<4x3x2xf32>
    %12 = nn.reshape(%11) {shape = [2, 2, 3, 2]} : tensor<2x2x3x2xf32>
    %13 = nn.slice(%4) {starts = [8], ends = [12], axes = [2]} : tensor<3x2x4xf32>
    %14 = nn.reshape(%13) {shape = [3, 4, 2]} : tensor<3x4x2xf32>
    %15 = nn.transpose(%14) {perm = [1, 0, 2]} : tensor<4x3x2xf32>
    %16 = nn.reshape(%15) {shape = [2, 2, 3, 2]} : tensor<2x2x3x2xf32>
    %17 = nn.constant {value = dense<i64, [0]>} : tensor<i64>
    %18 = nn.equal(%ids, %17) : tensor<2x2xbool>
    %19 = nn.constant {value = dense<2x1xbool, [false, false]>} : tensor<2x1xbool>
    %20 = nn.concat(%18, %19) {axis = 1} : tensor<2x3xbool>
    %21 = nn.constant {value = dense<f32, [-10000.0]>} : tensor<f32>
    %22 = nn.constant {value = dense<2x3xf32, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]>} : tensor<2x3xf32>
    %23 = nn.where(%20, %21, %22) : tensor<2x3xf32>
    %24 = nn.reshape(%23) {shape = [2, 1, 1, 3]} : tensor<2x1x1x3xf32>
    %25 = nn.expand(%24) {shape = [1, 2, 1, 1]} : tensor<2x2x1x3xf32>
    %26 = nn.transpose(%12) {perm = [0, 1, 3, 2]} : tensor<2x2x2x3xf32>
    %27 = nn.constant {value = dense<1xf32, [0.8408964]>} : tensor<1xf32>
    %28 = nn.matmul(%8, %26) : tensor<2x2x3x3xf32>
    %29 = nn.add(%28, %25) : tensor<2x2x3x3xf32>
    %30 = nn.constant {value = dense<f32, [0.7071068]>} : tensor<f32>
    %31 = nn.mul(%29, %30) : tensor<2x2x3x3xf32>
    %32 = nn.softmax(%31) : tensor<2x2x3x3xf32>
    %33 = nn.matmul(%32, %16) : tensor<2x2x3x2xf32>
    %34 = nn.transpose(%33) {perm = [2, 0, 1, 3]} : tensor<3x2x2x2xf32>
    %35 = nn.reshape(%34) {shape = [6, 4]} : tensor<6x4xf32>
    return %35
  }
}

// -----

// Near miss: the softmax runs over the queries, not over the masked keys.
// CHECK-LABEL: module @softmax_over_queries
// CHECK-NOT:   rec.attention
// CHECK:       nn.softmax
// CHECK-NOT:   rec.attention
module @softmax_over_queries {
  graph @main(%x: tensor<2x3x2xf32>, %ids: tensor<2x2xi64>) -> (out0: tensor<6x4xf32>) {
    %0 = nn.transpose(%x) {perm = [1, 0, 2]} : tensor<3x2x2xf32>
    %1 = nn.constant {value = dense<2x12xf32, [2.04, -2.56, 0.42, -0.57, -0.45, -0.22, -2.02, -0.23, -0.87, 3.32, 0.23, -0.35, -0.28, -0.67, -1.06, -0.39, 0.48, -0.24, 0.96, -0.2, 0.02, 1.55, 0.55, -0.51]>} : tensor<2x12xf32>
    %2 = nn.matmul(%0, %1) : tensor<3x2x12xf32>
    %3 = nn.constant {value = dense<12xf32, [-0.18, 0.54, 1.94, -0.27, -0.24, 1.0, -0.89, -0.29, 0.88, 0.58, 0.09, 0.67]>} : tensor<12xf32>
    %4 = nn.add(%2, %3) : tensor<3x2x12xf32>
    %5 = nn.slice(%4) {starts = [0], ends = [4], axes = [2]} : tensor<3x2x4xf32>
    %6 = nn.reshape(%5) {shape = [3, 4, 2]} : tensor<3x4x2xf32>
    %7 = nn.transpose(%6) {perm = [1, 0, 2]} : tensor<4x3x2xf32>
    %8 = nn.reshape(%7) {shape = [2, 2, 3, 2]} : tensor<2x2x3x2xf32>
    %9 = nn.slice(%4) {starts = [4], ends = [8], axes = [2]} : tensor<3x2x4xf32>
    %10 = nn.reshape(%9) {shape = [3, 4, 2]} : tensor<3x4x2xf32>
    %11 = nn.transpose(%10) {perm = [1, 0, 2]} : tensor<4x3x2xf32>
    %12 = nn.reshape(%11) {shape = [2, 2, 3, 2]} : tensor<2x2x3x2xf32>
    %13 = nn.slice(%4) {starts = [8], ends = [12], axes = [2]} : tensor<3x2x4xf32>
    %14 = nn.reshape(%13) {shape = [3, 4, 2]} : tensor<3x4x2xf32>
    %15 = nn.transpose(%14) {perm = [1, 0, 2]} : tensor<4x3x2xf32>
    %16 = nn.reshape(%15) {shape = [2, 2, 3, 2]} : tensor<2x2x3x2xf32>
    %17 = nn.constant {value = dense<i64, [0]>} : tensor<i64>
    %18 = nn.equal(%ids, %17) : tensor<2x2xbool>
    %19 = nn.constant {value = dense<2x1xbool, [false, false]>} : tensor<2x1xbool>
    %20 = nn.concat(%18, %19) {axis = 1} : tensor<2x3xbool>
    %21 = nn.constant {value = dense<f32, [-10000.0]>} : tensor<f32>
    %22 = nn.constant {value = dense<2x3xf32, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]>} : tensor<2x3xf32>
    %23 = nn.where(%20, %21, %22) : tensor<2x3xf32>
    %24 = nn.reshape(%23) {shape = [2, 1, 1, 3]} : tensor<2x1x1x3xf32>
    %25 = nn.expand(%24) {shape = [1, 2, 1, 1]} : tensor<2x2x1x3xf32>
    %26 = nn.transpose(%12) {perm = [0, 1, 3, 2]} : tensor<2x2x2x3xf32>
    %27 = nn.constant {value = dense<1xf32, [0.8408964]>} : tensor<1xf32>
    %28 = nn.mul(%26, %27) : tensor<2x2x2x3xf32>
    %29 = nn.mul(%8, %27) : tensor<2x2x3x2xf32>
    %30 = nn.matmul(%29, %28) : tensor<2x2x3x3xf32>
    %31 = nn.add(%30, %25) : tensor<2x2x3x3xf32>
    %32 = nn.softmax(%31) {axis = -2} : tensor<2x2x3x3xf32>
    %33 = nn.matmul(%32, %16) : tensor<2x2x3x2xf32>
    %34 = nn.transpose(%33) {perm = [2, 0, 1, 3]} : tensor<3x2x2x2xf32>
    %35 = nn.reshape(%34) {shape = [6, 4]} : tensor<6x4xf32>
    return %35
  }
}
