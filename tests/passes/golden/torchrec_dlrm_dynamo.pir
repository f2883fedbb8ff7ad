module @torchrec_dlrm_dynamo {
  graph @main(%dense: tensor<64x13xf32>, %sparse: tensor<64x26xi64>) -> (output: tensor<64x1xf32>) {
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C1.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C1.weight} : tensor<27x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C2.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C2.weight} : tensor<92x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C3.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C3.weight} : tensor<172x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C4.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C4.weight} : tensor<157x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C5.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C5.weight} : tensor<12x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C6.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C6.weight} : tensor<7x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C7.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C7.weight} : tensor<183x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C8.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C8.weight} : tensor<19x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C9.weight = nn.constant {value = dense<2x8xf32, [-0.07274436, 0.04791665, -0.2932088, -0.20291187, -0.23659948, -0.3314466, 0.23730224, -0.008448892, -0.48947018, 0.4965668, -0.21450318, -0.3407612, -0.063861206, 0.6523781, -0.036334287, -0.026941152]>} : tensor<2x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C10.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C10.weight} : tensor<142x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C11.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C11.weight} : tensor<173x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C12.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C12.weight} : tensor<170x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C13.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C13.weight} : tensor<166x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C14.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C14.weight} : tensor<14x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C15.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C15.weight} : tensor<170x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C16.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C16.weight} : tensor<168x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C17.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C17.weight} : tensor<9x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C18.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C18.weight} : tensor<127x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C19.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C19.weight} : tensor<44x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C20.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C20.weight} : tensor<4x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C21.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C21.weight} : tensor<169x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C22.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C22.weight} : tensor<6x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C23.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C23.weight} : tensor<10x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C24.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C24.weight} : tensor<125x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C25.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C25.weight} : tensor<20x8xf32>
    %model.sparse_arch.embedding_bag_collection.embedding_bags.t_C26.weight = nn.constant {value = @model.sparse_arch.embedding_bag_collection.embedding_bags.t_C26.weight} : tensor<90x8xf32>
    %0 = nn.transpose(%sparse) {perm = [1, 0]} : tensor<26x64xi64>
    %1 = nn.reshape(%0) {shape = [1664]} : tensor<1664xi64>
    %2 = nn.constant {value = @c2} : tensor<13x32xf32>
    %3 = nn.constant {value = @c3} : tensor<32xf32>
    %4 = rec.dense(%dense, %2, %3) {activation = "relu"} : tensor<64x32xf32>
    %5 = nn.constant {value = @c5} : tensor<32x8xf32>
    %6 = nn.constant {value = dense<8xf32, [-0.013705969, 0.16224335, 0.059459493, -0.14255157, -0.029644564, 0.030538723, -0.05511877, 0.016962692]>} : tensor<8xf32>
    %7 = rec.dense(%4, %5, %6) {activation = "relu"} : tensor<64x8xf32>
    %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33 = nn.split(%1) {sizes = [64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64]} : tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>
    %34 = nn.constant {value = @c34} : tensor<64xi64>
    %35 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C1.weight, %8, %34) : tensor<64x8xf32>
    %36 = nn.constant {value = @c36} : tensor<64xi64>
    %37 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C2.weight, %9, %36) : tensor<64x8xf32>
    %38 = nn.constant {value = @c38} : tensor<64xi64>
    %39 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C3.weight, %10, %38) : tensor<64x8xf32>
    %40 = nn.constant {value = @c40} : tensor<64xi64>
    %41 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C4.weight, %11, %40) : tensor<64x8xf32>
    %42 = nn.constant {value = @c42} : tensor<64xi64>
    %43 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C5.weight, %12, %42) : tensor<64x8xf32>
    %44 = nn.constant {value = @c44} : tensor<64xi64>
    %45 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C6.weight, %13, %44) : tensor<64x8xf32>
    %46 = nn.constant {value = @c46} : tensor<64xi64>
    %47 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C7.weight, %14, %46) : tensor<64x8xf32>
    %48 = nn.constant {value = @c48} : tensor<64xi64>
    %49 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C8.weight, %15, %48) : tensor<64x8xf32>
    %50 = nn.constant {value = @c50} : tensor<64xi64>
    %51 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C9.weight, %16, %50) : tensor<64x8xf32>
    %52 = nn.constant {value = @c52} : tensor<64xi64>
    %53 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C10.weight, %17, %52) : tensor<64x8xf32>
    %54 = nn.constant {value = @c54} : tensor<64xi64>
    %55 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C11.weight, %18, %54) : tensor<64x8xf32>
    %56 = nn.constant {value = @c56} : tensor<64xi64>
    %57 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C12.weight, %19, %56) : tensor<64x8xf32>
    %58 = nn.constant {value = @c58} : tensor<64xi64>
    %59 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C13.weight, %20, %58) : tensor<64x8xf32>
    %60 = nn.constant {value = @c60} : tensor<64xi64>
    %61 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C14.weight, %21, %60) : tensor<64x8xf32>
    %62 = nn.constant {value = @c62} : tensor<64xi64>
    %63 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C15.weight, %22, %62) : tensor<64x8xf32>
    %64 = nn.constant {value = @c64} : tensor<64xi64>
    %65 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C16.weight, %23, %64) : tensor<64x8xf32>
    %66 = nn.constant {value = @c66} : tensor<64xi64>
    %67 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C17.weight, %24, %66) : tensor<64x8xf32>
    %68 = nn.constant {value = @c68} : tensor<64xi64>
    %69 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C18.weight, %25, %68) : tensor<64x8xf32>
    %70 = nn.constant {value = @c70} : tensor<64xi64>
    %71 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C19.weight, %26, %70) : tensor<64x8xf32>
    %72 = nn.constant {value = @c72} : tensor<64xi64>
    %73 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C20.weight, %27, %72) : tensor<64x8xf32>
    %74 = nn.constant {value = @c74} : tensor<64xi64>
    %75 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C21.weight, %28, %74) : tensor<64x8xf32>
    %76 = nn.constant {value = @c76} : tensor<64xi64>
    %77 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C22.weight, %29, %76) : tensor<64x8xf32>
    %78 = nn.constant {value = @c78} : tensor<64xi64>
    %79 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C23.weight, %30, %78) : tensor<64x8xf32>
    %80 = nn.constant {value = @c80} : tensor<64xi64>
    %81 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C24.weight, %31, %80) : tensor<64x8xf32>
    %82 = nn.constant {value = @c82} : tensor<64xi64>
    %83 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C25.weight, %32, %82) : tensor<64x8xf32>
    %84 = nn.constant {value = @c84} : tensor<64xi64>
    %85 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C26.weight, %33, %84) : tensor<64x8xf32>
    %86 = nn.concat(%35, %37, %39, %41, %43, %45, %47, %49, %51, %53, %55, %57, %59, %61, %63, %65, %67, %69, %71, %73, %75, %77, %79, %81, %83, %85) {axis = 1} : tensor<64x208xf32>
    %87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, %112 = nn.split(%86) {axis = 1, sizes = [8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]} : tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>
    %113 = nn.concat(%87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, %112) {axis = 1} : tensor<64x208xf32>
    %114 = nn.reshape(%113) {shape = [64, 26, 8]} : tensor<64x26x8xf32>
    %115 = nn.unsqueeze(%7) {axes = [1]} : tensor<64x1x8xf32>
    %116 = nn.concat(%115, %114) {axis = 1} : tensor<64x27x8xf32>
    %117 = rec.dot_interaction(%116) {triangle = "upper"} : tensor<64x351xf32>
    %118 = nn.concat(%7, %117) {axis = 1} : tensor<64x359xf32>
    %119 = nn.constant {value = @c119} : tensor<359x32xf32>
    %120 = nn.constant {value = @c120} : tensor<32xf32>
    %121 = rec.dense(%118, %119, %120) {activation = "relu"} : tensor<64x32xf32>
    %122 = nn.constant {value = @c122} : tensor<32x16xf32>
    %123 = nn.constant {value = dense<16xf32, [-0.038425058, -0.14127716, 0.060618654, 0.05628349, -0.15766244, 0.057372376, -0.1362808, -0.14985278, -0.1590008, -0.1233974, 0.025508434, 0.12658386, -0.0163465, 0.17790274, 0.053653494, 0.098390386]>} : tensor<16xf32>
    %124 = rec.dense(%121, %122, %123) {activation = "relu"} : tensor<64x16xf32>
    %125 = nn.constant {value = dense<16x1xf32, [0.4248984, 0.57848823, -0.32000357, -0.29681674, 0.24533957, -0.065494776, -0.38925314, 0.19219154, -0.36452064, 0.34871584, 0.01469934, -0.41913635, -0.32061785, -0.5045085, 0.46793532, 0.11895746]>} : tensor<16x1xf32>
    %126 = nn.constant {value = dense<1xf32, [-0.15442455]>} : tensor<1xf32>
    %127 = rec.dense(%124, %125, %126) : tensor<64x1xf32>
    return %127
  }
}
