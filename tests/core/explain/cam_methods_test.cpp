// Every method against its paper's formula, written out with plain loops on small tensors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "explain/cam_methods.h"

#include <limits>
#include <stdexcept>

namespace camx {
namespace {

constexpr int B = 2, C = 3, H = 2, W = 3;

struct Case {
    at::Tensor A, G;
    Case() {
        at::manual_seed(3);
        A = at::relu(at::randn({B, C, H, W}, at::kDouble));
        G = at::randn({B, C, H, W}, at::kDouble);
    }
    double a(int b, int k, int i, int j) const { return A[b][k][i][j].item<double>(); }
    double g(int b, int k, int i, int j) const { return G[b][k][i][j].item<double>(); }
};

void expectMap(const at::Tensor& got, const std::function<double(int, int, int)>& want) {
    ASSERT_EQ(got.sizes(), (at::IntArrayRef{B, H, W}));
    for (int b = 0; b < B; ++b)
        for (int i = 0; i < H; ++i)
            for (int j = 0; j < W; ++j)
                EXPECT_NEAR(got[b][i][j].item<double>(), want(b, i, j), 1e-9)
                    << b << "," << i << "," << j;
}

TEST(CamMethods, CamIsTheClassWeightedSum) {
    Case c;
    at::Tensor Wc = at::randn({B, C}, at::kDouble);
    expectMap(camRaw(c.A, Wc), [&](int b, int i, int j) {
        double s = 0;
        for (int k = 0; k < C; ++k) s += Wc[b][k].item<double>() * c.a(b, k, i, j);
        return s;
    });
}

TEST(CamMethods, GradCamWeightsAreMeanGradients) {
    Case c;
    expectMap(gradCamRaw(c.A, c.G), [&](int b, int i, int j) {
        double s = 0;
        for (int k = 0; k < C; ++k) {
            double alpha = 0;
            for (int y = 0; y < H; ++y)
                for (int x = 0; x < W; ++x) alpha += c.g(b, k, y, x);
            s += alpha / (H * W) * c.a(b, k, i, j);
        }
        return s;
    });
}

TEST(CamMethods, GradCamPlusPlus) {
    Case c;
    expectMap(gradCamPlusPlusRaw(c.A, c.G), [&](int b, int i, int j) {
        double s = 0;
        for (int k = 0; k < C; ++k) {
            double sumA = 0;
            for (int y = 0; y < H; ++y)
                for (int x = 0; x < W; ++x) sumA += c.a(b, k, y, x);
            double w = 0;
            for (int y = 0; y < H; ++y)
                for (int x = 0; x < W; ++x) {
                    const double g = c.g(b, k, y, x);
                    // pytorch-grad-cam's constant, 1e-6 (grad_cam_plusplus.py).
                    const double alpha = g == 0 ? 0 : g * g / (2 * g * g + sumA * g * g * g + 1e-6);
                    w += alpha * std::max(g, 0.0);
                }
            s += w * c.a(b, k, i, j);
        }
        return s;
    });
}

TEST(CamMethods, XGradCam) {
    Case c;
    expectMap(xGradCamRaw(c.A, c.G), [&](int b, int i, int j) {
        double s = 0;
        for (int k = 0; k < C; ++k) {
            double sumA = 0, num = 0;
            for (int y = 0; y < H; ++y)
                for (int x = 0; x < W; ++x) {
                    sumA += c.a(b, k, y, x);
                    num += c.g(b, k, y, x) * c.a(b, k, y, x);
                }
            s += num / (sumA + 1e-7) * c.a(b, k, i, j);
        }
        return s;
    });
}

TEST(CamMethods, LayerCamAndHiResCamAreElementWise) {
    Case c;
    expectMap(layerCamRaw(c.A, c.G), [&](int b, int i, int j) {
        double s = 0;
        for (int k = 0; k < C; ++k) s += std::max(c.g(b, k, i, j), 0.0) * c.a(b, k, i, j);
        return s;
    });
    expectMap(hiResCamRaw(c.A, c.G), [&](int b, int i, int j) {
        double s = 0;
        for (int k = 0; k < C; ++k) s += c.g(b, k, i, j) * c.a(b, k, i, j);
        return s;
    });
}

TEST(CamMethods, EigenCamIsTheFirstPrincipalComponent) {
    // Rank-one activations: A_k = u_k * P with P a fixed spatial pattern. The first principal
    // component then recovers P (centred), up to scale.
    at::Tensor P = at::tensor({1.0, 4.0, 2.0, 0.0, 3.0, 5.0}, at::kDouble).reshape({H, W});
    at::Tensor u = at::tensor({0.5, 2.0, 1.0}, at::kDouble);
    at::Tensor A = (u.reshape({C, 1, 1}) * P).unsqueeze(0).repeat({B, 1, 1, 1});
    at::Tensor m = eigenCamRaw(A);
    const at::Tensor centred = P - P.mean();
    for (int b = 0; b < B; ++b) {
        const double scale = m[b][1][2].item<double>() / centred[1][2].item<double>();
        EXPECT_GT(scale, 0) << "oriented so the strongest response is positive";
        EXPECT_TRUE(at::allclose(m[b], centred * scale, 1e-9, 1e-9)) << m[b];
    }
}

TEST(CamMethods, GradientTermsSumToEachMethodsMap) {
    Case c;
    const std::pair<Method, at::Tensor> maps[] = {
        {Method::GradCam, gradCamRaw(c.A, c.G)},
        {Method::GradCamPlusPlus, gradCamPlusPlusRaw(c.A, c.G)},
        {Method::XGradCam, xGradCamRaw(c.A, c.G)},
        {Method::LayerCam, layerCamRaw(c.A, c.G)},
        {Method::HiResCam, hiResCamRaw(c.A, c.G)},
        {Method::FinerCam, gradCamRaw(c.A, c.G)}};
    for (const auto& [m, map] : maps) {
        const at::Tensor terms = gradientTerms(m, c.A, c.G);
        ASSERT_EQ(terms.sizes(), c.A.sizes()) << methodName(m);
        EXPECT_TRUE(at::equal(terms.sum(1), map)) << methodName(m);
    }
    // LayerCAM's terms are element-wise, Grad-CAM's a channel weight times the activation.
    EXPECT_TRUE(at::equal(gradientTerms(Method::LayerCam, c.A, c.G), at::relu(c.G) * c.A));
    for (Method m : {Method::Cam, Method::ScoreCam, Method::EigenCam})
        EXPECT_THROW(gradientTerms(m, c.A, c.G), std::invalid_argument) << methodName(m);
}

TEST(CamMethods, FirstComponentProjectionIgnoresNanAndIsOriented) {
    // Rank one after centring: the projection is the centred pattern, scaled by |u| and
    // oriented so the larger extreme is the maximum; a NaN counts as 0.
    at::Tensor P = at::tensor({0.0, -4.0, 1.0, 0.0, 2.0, 1.0}, at::kDouble).reshape({H, W});
    at::Tensor u = at::tensor({3.0, 0.0, -4.0}, at::kDouble);
    at::Tensor X = (u.reshape({C, 1, 1}) * P).unsqueeze(0).repeat({B, 1, 1, 1});
    X[1][1][0][0] = std::numeric_limits<double>::quiet_NaN();  // channel 1 is 0 there anyway
    const at::Tensor m = firstComponentProjection(X);
    const at::Tensor centred = P - P.mean();
    for (int b = 0; b < B; ++b)
        // The strongest extreme of the centred pattern is -4.5 (at [0][1]): flipped positive.
        EXPECT_TRUE(at::allclose(m[b], -5.0 * centred, 1e-9, 1e-9)) << m[b];
}

}  // namespace
}  // namespace camx
