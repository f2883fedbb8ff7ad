// RUN: pimc opt %s -p canonicalize,fuse-interactions --split-input-file | filecheck %s

// BatchNorm folds into the dense before it: weight columns scaled, bias mapped, and the
// ReLU after it fuses as well.
// CHECK-LABEL: module @after_dense
// CHECK-NOT:  nn.batch_norm
// CHECK:      rec.dense(%x, %{{.*}}, %{{.*}}) {activation = "relu"} : tensor<4x2xf32>
// CHECK-NEXT: return
module @after_dense {
  graph @main(%x: tensor<4x3xf32>) -> (y: tensor<4x2xf32>) {
    %w = nn.constant {value = dense<2x3xf32, [0.5, -1.0, 2.0, 1.5, 0.25, -0.75]>} : tensor<2x3xf32>
    %c = nn.constant {value = dense<2xf32, [0.1, -0.2]>} : tensor<2xf32>
    %g = nn.constant {value = dense<2xf32, [1.5, 0.5]>} : tensor<2xf32>
    %b = nn.constant {value = dense<2xf32, [0.3, -0.1]>} : tensor<2xf32>
    %m = nn.constant {value = dense<2xf32, [0.2, 0.4]>} : tensor<2xf32>
    %v = nn.constant {value = dense<2xf32, [0.8, 1.2]>} : tensor<2xf32>
    %0 = nn.gemm(%x, %w, %c) {trans_b = true} : tensor<4x2xf32>
    %1 = nn.batch_norm(%0, %g, %b, %m, %v) : tensor<4x2xf32>
    %2 = nn.relu(%1) : tensor<4x2xf32>
    return %2
  }
}

// -----

// Near miss: the dense's ReLU comes before the BatchNorm; relu(x) * s + t is no dense.
// CHECK-LABEL: module @after_activation
// CHECK:      rec.dense(%x, %{{.*}}, %{{.*}}) {activation = "relu"}
// CHECK-NEXT: nn.batch_norm
module @after_activation {
  graph @main(%x: tensor<4x3xf32>) -> (y: tensor<4x2xf32>) {
    %w = nn.constant {value = dense<2x3xf32, [0.5, -1.0, 2.0, 1.5, 0.25, -0.75]>} : tensor<2x3xf32>
    %c = nn.constant {value = dense<2xf32, [0.1, -0.2]>} : tensor<2xf32>
    %g = nn.constant {value = dense<2xf32, [1.5, 0.5]>} : tensor<2xf32>
    %b = nn.constant {value = dense<2xf32, [0.3, -0.1]>} : tensor<2xf32>
    %m = nn.constant {value = dense<2xf32, [0.2, 0.4]>} : tensor<2xf32>
    %v = nn.constant {value = dense<2xf32, [0.8, 1.2]>} : tensor<2xf32>
    %0 = nn.gemm(%x, %w, %c) {trans_b = true} : tensor<4x2xf32>
    %1 = nn.relu(%0) : tensor<4x2xf32>
    %2 = nn.batch_norm(%1, %g, %b, %m, %v) : tensor<4x2xf32>
    return %2
  }
}

// -----

// Near miss: over a rank-3 dense output BatchNorm normalises axis 1 (the tokens), not the
// dense's output features.
// CHECK-LABEL: module @token_axis
// CHECK:      rec.dense
// CHECK-NEXT: nn.batch_norm
module @token_axis {
  graph @main(%x: tensor<4x2x3xf32>) -> (y: tensor<4x2x2xf32>) {
    %w = nn.constant {value = dense<3x2xf32, [0.5, -1.0, 2.0, 1.5, 0.25, -0.75]>} : tensor<3x2xf32>
    %g = nn.constant {value = dense<2xf32, [1.5, 0.5]>} : tensor<2xf32>
    %b = nn.constant {value = dense<2xf32, [0.3, -0.1]>} : tensor<2xf32>
    %m = nn.constant {value = dense<2xf32, [0.2, 0.4]>} : tensor<2xf32>
    %v = nn.constant {value = dense<2xf32, [0.8, 1.2]>} : tensor<2xf32>
    %0 = nn.matmul(%x, %w) : tensor<4x2x2xf32>
    %1 = nn.batch_norm(%0, %g, %b, %m, %v) : tensor<4x2x2xf32>
    return %1
  }
}

// -----

// Near miss: statistics that are graph inputs are not known at compile time. The BatchNorm
// before the dense stays too (its scale is not a constant).
// CHECK-LABEL: module @runtime_statistics
// CHECK:      nn.batch_norm
// CHECK-NEXT: rec.dense
// CHECK-NEXT: nn.batch_norm
module @runtime_statistics {
  graph @main(%x: tensor<4x3xf32>, %g: tensor<3xf32>) -> (y: tensor<4x3xf32>) {
    %w = nn.constant {value = dense<3x3xf32, [0.5, -1.0, 2.0, 1.5, 0.25, -0.75, 1.0, 0.0, 2.0]>} : tensor<3x3xf32>
    %b = nn.constant {value = dense<3xf32, [0.3, -0.1, 0.2]>} : tensor<3xf32>
    %m = nn.constant {value = dense<3xf32, [0.2, 0.4, 0.0]>} : tensor<3xf32>
    %v = nn.constant {value = dense<3xf32, [0.8, 1.2, 1.0]>} : tensor<3xf32>
    %0 = nn.batch_norm(%x, %g, %b, %m, %v) : tensor<4x3xf32>
    %1 = nn.matmul(%0, %w) : tensor<4x3xf32>
    %2 = nn.batch_norm(%1, %g, %b, %m, %v) : tensor<4x3xf32>
    return %2
  }
}

// -----

// BatchNorm before a dense folds into the dense's rows and bias; the dense's activation stays.
// CHECK-LABEL: module @before_dense
// CHECK-NOT:  nn.batch_norm
// CHECK:      rec.dense(%x, %{{.*}}, %{{.*}}) {activation = "sigmoid"} : tensor<4x2xf32>
module @before_dense {
  graph @main(%x: tensor<4x2xf32>) -> (y: tensor<4x2xf32>) {
    %w = nn.constant {value = dense<2x2xf32, [0.5, -1.0, 2.0, 1.5]>} : tensor<2x2xf32>
    %g = nn.constant {value = dense<2xf32, [1.5, 0.5]>} : tensor<2xf32>
    %b = nn.constant {value = dense<2xf32, [0.3, -0.1]>} : tensor<2xf32>
    %m = nn.constant {value = dense<2xf32, [0.2, 0.4]>} : tensor<2xf32>
    %v = nn.constant {value = dense<2xf32, [0.8, 1.2]>} : tensor<2xf32>
    %0 = nn.batch_norm(%x, %g, %b, %m, %v) : tensor<4x2xf32>
    %1 = nn.matmul(%0, %w) : tensor<4x2xf32>
    %2 = nn.sigmoid(%1) : tensor<4x2xf32>
    return %2
  }
}
