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
    %36 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C2.weight, %9, %34) : tensor<64x8xf32>
    %37 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C3.weight, %10, %34) : tensor<64x8xf32>
    %38 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C4.weight, %11, %34) : tensor<64x8xf32>
    %39 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C5.weight, %12, %34) : tensor<64x8xf32>
    %40 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C6.weight, %13, %34) : tensor<64x8xf32>
    %41 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C7.weight, %14, %34) : tensor<64x8xf32>
    %42 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C8.weight, %15, %34) : tensor<64x8xf32>
    %43 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C9.weight, %16, %34) : tensor<64x8xf32>
    %44 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C10.weight, %17, %34) : tensor<64x8xf32>
    %45 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C11.weight, %18, %34) : tensor<64x8xf32>
    %46 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C12.weight, %19, %34) : tensor<64x8xf32>
    %47 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C13.weight, %20, %34) : tensor<64x8xf32>
    %48 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C14.weight, %21, %34) : tensor<64x8xf32>
    %49 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C15.weight, %22, %34) : tensor<64x8xf32>
    %50 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C16.weight, %23, %34) : tensor<64x8xf32>
    %51 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C17.weight, %24, %34) : tensor<64x8xf32>
    %52 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C18.weight, %25, %34) : tensor<64x8xf32>
    %53 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C19.weight, %26, %34) : tensor<64x8xf32>
    %54 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C20.weight, %27, %34) : tensor<64x8xf32>
    %55 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C21.weight, %28, %34) : tensor<64x8xf32>
    %56 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C22.weight, %29, %34) : tensor<64x8xf32>
    %57 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C23.weight, %30, %34) : tensor<64x8xf32>
    %58 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C24.weight, %31, %34) : tensor<64x8xf32>
    %59 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C25.weight, %32, %34) : tensor<64x8xf32>
    %60 = rec.embedding_bag(%model.sparse_arch.embedding_bag_collection.embedding_bags.t_C26.weight, %33, %34) : tensor<64x8xf32>
    %61 = nn.concat(%35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60) {axis = 1} : tensor<64x208xf32>
    %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87 = nn.split(%61) {axis = 1, sizes = [8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]} : tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>
    %88 = nn.concat(%62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87) {axis = 1} : tensor<64x208xf32>
    %89 = nn.reshape(%88) {shape = [64, 26, 8]} : tensor<64x26x8xf32>
    %90 = nn.unsqueeze(%7) {axes = [1]} : tensor<64x1x8xf32>
    %91 = nn.concat(%90, %89) {axis = 1} : tensor<64x27x8xf32>
    %92 = rec.dot_interaction(%91) {triangle = "upper"} : tensor<64x351xf32>
    %93 = nn.concat(%7, %92) {axis = 1} : tensor<64x359xf32>
    %94 = nn.constant {value = @c94} : tensor<359x32xf32>
    %95 = nn.constant {value = @c95} : tensor<32xf32>
    %96 = rec.dense(%93, %94, %95) {activation = "relu"} : tensor<64x32xf32>
    %97 = nn.constant {value = @c97} : tensor<32x16xf32>
    %98 = nn.constant {value = dense<16xf32, [-0.038425058, -0.14127716, 0.060618654, 0.05628349, -0.15766244, 0.057372376, -0.1362808, -0.14985278, -0.1590008, -0.1233974, 0.025508434, 0.12658386, -0.0163465, 0.17790274, 0.053653494, 0.098390386]>} : tensor<16xf32>
    %99 = rec.dense(%96, %97, %98) {activation = "relu"} : tensor<64x16xf32>
    %100 = nn.constant {value = dense<16x1xf32, [0.4248984, 0.57848823, -0.32000357, -0.29681674, 0.24533957, -0.065494776, -0.38925314, 0.19219154, -0.36452064, 0.34871584, 0.01469934, -0.41913635, -0.32061785, -0.5045085, 0.46793532, 0.11895746]>} : tensor<16x1xf32>
    %101 = nn.constant {value = dense<1xf32, [-0.15442455]>} : tensor<1xf32>
    %102 = rec.dense(%99, %100, %101) : tensor<64x1xf32>
    return %102
  }
}
