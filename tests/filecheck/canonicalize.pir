// RUN: pimc opt %s -p canonicalize --split-input-file | filecheck %s

// Constant operands fold into one constant; the transposed weight is folded too.
// CHECK-LABEL: module @fold
// CHECK:      graph @main(%x: tensor<2x3xf32>) -> (y: tensor<2x2xf32>) {
// CHECK-NEXT:   %{{.*}} = nn.constant {value = dense<3x2xf32, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]>} : tensor<3x2xf32>
// CHECK-NEXT:   %{{.*}} = nn.matmul(%x, %{{.*}}) : tensor<2x2xf32>
// CHECK-NEXT:   return
module @fold {
  graph @main(%x: tensor<2x3xf32>) -> (y: tensor<2x2xf32>) {
    %w = nn.constant {value = dense<2x3xf32, [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]>} : tensor<2x3xf32>
    %h = nn.constant {value = dense<f32, [0.5]>} : tensor<f32>
    %s = nn.add(%w, %h) : tensor<2x3xf32>
    %t = nn.transpose(%s) {perm = [1, 0]} : tensor<3x2xf32>
    %0 = nn.matmul(%x, %t) : tensor<2x2xf32>
    return %0
  }
}

// -----

// Shapes of statically typed values are constants, and so is arithmetic on them.
// CHECK-LABEL: module @shape
// CHECK:      %{{.*}} = nn.constant {value = dense<1xi64, [12]>} : tensor<1xi64>
// CHECK-NOT:  nn.shape
// CHECK-NOT:  nn.mul
module @shape {
  graph @main(%x: tensor<4x6xf32>) -> (n: tensor<1xi64>) {
    %0 = nn.shape(%x) {start = 1} : tensor<1xi64>
    %2 = nn.constant {value = dense<1xi64, [2]>} : tensor<1xi64>
    %1 = nn.mul(%0, %2) : tensor<1xi64>
    return %1
  }
}

// -----

// No-ops forward their operand; dead ops go.
// CHECK-LABEL: module @noops
// CHECK:      graph @main(%x: tensor<2x3xf32>) -> (y: tensor<2x3xf32>) {
// CHECK-NEXT:   %{{.*}} = nn.relu(%x) : tensor<2x3xf32>
// CHECK-NEXT:   return
module @noops {
  graph @main(%x: tensor<2x3xf32>) -> (y: tensor<2x3xf32>) {
    %0 = nn.identity(%x) : tensor<2x3xf32>
    %1 = nn.dropout(%0) {ratio = 0.1} : tensor<2x3xf32>
    %2 = nn.cast(%1) {to = "f32"} : tensor<2x3xf32>
    %3 = nn.reshape(%2) {shape = [2, 3]} : tensor<2x3xf32>
    %4 = nn.transpose(%3) {perm = [0, 1]} : tensor<2x3xf32>
    %5 = nn.unsqueeze(%4) {axes = [0]} : tensor<1x2x3xf32>
    %6 = nn.squeeze(%5) {axes = [0]} : tensor<2x3xf32>
    %z = nn.constant {value = dense<3xf32, [0.0, 0.0, 0.0]>} : tensor<3xf32>
    %7 = nn.add(%6, %z) : tensor<2x3xf32>
    %o = nn.constant {value = dense<f32, [1.0]>} : tensor<f32>
    %8 = nn.mul(%o, %7) : tensor<2x3xf32>
    %9 = nn.expand(%8) {shape = [1, 3]} : tensor<2x3xf32>
    %10 = nn.relu(%9) : tensor<2x3xf32>
    %dead = nn.exp(%10) : tensor<2x3xf32>
    return %10
  }
}

// -----

// An add of zeros that broadcasts to a wider shape is not a no-op.
// CHECK-LABEL: module @broadcast
// CHECK:      nn.add(%x, %{{.*}}) : tensor<2x3xf32>
module @broadcast {
  graph @main(%x: tensor<3xf32>) -> (y: tensor<2x3xf32>) {
    %z = nn.constant {value = dense<2x3xf32, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]>} : tensor<2x3xf32>
    %0 = nn.add(%x, %z) : tensor<2x3xf32>
    return %0
  }
}

// -----

// Chains of reshapes collapse to one; two transposes compose into one.
// CHECK-LABEL: module @chains
// CHECK:      %{{.*}} = nn.reshape(%x) {shape = [3, 8]} : tensor<3x8xf32>
// CHECK-NEXT: %{{.*}} = nn.transpose(%x) {perm = [2, 1, 0]} : tensor<4x3x2xf32>
// CHECK-NEXT: return
module @chains {
  graph @main(%x: tensor<2x3x4xf32>) -> (a: tensor<3x8xf32>, b: tensor<4x3x2xf32>) {
    %0 = nn.flatten(%x) {axis = 2} : tensor<6x4xf32>
    %1 = nn.reshape(%0) {shape = [3, 8]} : tensor<3x8xf32>
    %2 = nn.transpose(%x) {perm = [1, 0, 2]} : tensor<3x2x4xf32>
    %3 = nn.transpose(%2) {perm = [2, 0, 1]} : tensor<4x3x2xf32>
    return %1, %3
  }
}
