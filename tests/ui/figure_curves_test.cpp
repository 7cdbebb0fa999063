// Figures with curves (`export --curves`, FigureRequest::curves): each map panel gets its own
// deletion and insertion curves, re-derived here from RISE's definition with the model's own
// forward pass, and the figure paints them in a band of their own under the captions.
#include <gtest/gtest.h>

#include <QGuiApplication>
#include <QImage>
#include <QPainter>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "../core/test_support.h"
#include "data/image_io.h"
#include "explain/model_session.h"
#include "explain/postprocess.h"
#include "figures/comparison_figure.h"
#include "figures/figure_batch.h"

namespace camx::ui {
namespace {

class FigureCurves : public test::DemoSuite<1, 2, 2, 23, true> {};

double softmaxAt(const std::vector<float>& logits, int c) {
    const float hi = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (float v : logits) sum += std::exp(static_cast<double>(v - hi));
    return std::exp(static_cast<double>(logits[static_cast<std::size_t>(c)] - hi)) / sum;
}

TEST_F(FigureCurves, EachMapPanelGetsItsOwnRiseCurvesAndTheFigureShowsThem) {
    auto model = ModelSession::open(modelFile());
    const ModelInfo& info = model->info();
    const int S = info.inputSize;
    const int steps = 6;
    const Sample& sample = s_ds->test.samples.front();
    FigureRequest req;
    req.methods = {Method::Cam, Method::GradCam};
    req.curves = true;
    req.curveSteps = steps;
    const auto figures =
        buildComparisons(*model, {sample}, s_ds->breedNames, req, ExplainTarget::Predicted);
    ASSERT_EQ(figures.size(), 1u);
    const ComparisonFigure& f = figures[0];
    ASSERT_EQ(f.panels.size(), 3u);
    EXPECT_TRUE(f.panels[0].curves.empty());  // the photo has no map
    EXPECT_TRUE(hasCurves(f));

    // The oracle: the same image and maps, pixels deleted by hand in the map's order.
    const cv::Mat rgb = readRgb(sample.imagePath);
    ExplainOptions eo;
    eo.methods = req.methods;
    eo.taps = {info.lastBlockTap};
    eo.score = req.score;
    const ImageExplanation ex = model->explain({rgb}, {-1}, eo).at(0);
    std::vector<float> chw(3u * static_cast<std::size_t>(S) * S);
    toChwNormalized(resizeForModel(rgb, S), info.norm, chw.data());
    const std::size_t pixels = static_cast<std::size_t>(S) * S;
    const std::size_t per = (pixels + steps - 1) / steps;
    for (std::size_t m = 0; m < req.methods.size(); ++m) {
        const PanelCurves& c = f.panels[m + 1].curves;
        ASSERT_EQ(c.deletion.size(), static_cast<std::size_t>(steps + 1));
        ASSERT_EQ(c.insertion.size(), static_cast<std::size_t>(steps + 1));
        EXPECT_TRUE(c.probability);
        const Heatmap* raw = ex.find(req.methods[m], info.lastBlockTap);
        ASSERT_TRUE(raw);
        const auto map = upsampleMap(normalizeMap(*raw, methodUsesRelu(req.methods[m])), S, S).data;
        std::vector<std::size_t> order(pixels);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return map[a] > map[b]; });
        double area = 0;
        for (int k = 0; k <= steps; ++k) {
            std::vector<float> x = chw;
            for (std::size_t i = 0; i < std::min(pixels, per * static_cast<std::size_t>(k)); ++i)
                for (int ch = 0; ch < 3; ++ch) x[ch * pixels + order[i]] = 0;  // zeros: RISE's
            const double score = softmaxAt(model->classifyPrepared(x.data(), 1).at(0), ex.target);
            EXPECT_NEAR(c.deletion[static_cast<std::size_t>(k)], score, 1e-5)
                << methodId(req.methods[m]) << " step " << k;
            area += (k == 0 || k == steps) ? score / 2 : score;
        }
        EXPECT_NEAR(c.deletionAuc, area / steps, 1e-5);
        // Insertion ends at the whole image.
        EXPECT_NEAR(c.insertion.back(), softmaxAt(ex.logits, ex.target), 1e-5);
    }

    // Painted: a band under the captions, the deletion curve's red in each map's band only.
    ComparisonFigure without = f;
    for (auto& p : without.panels) p.curves = {};
    const double band = naturalSize(f).height() - naturalSize(without).height();
    EXPECT_GT(band, 100);
    const QSizeF size = naturalSize(f);
    QImage out(size.toSize(), QImage::Format_RGB32);
    out.fill(Qt::white);
    QPainter p(&out);
    paintFigure(p, f, QRectF(QPointF(0, 0), size));
    p.end();
    const double top = naturalSize(without).height() - 40;  // above the colour scale band
    const double panelWidth = (size.width() - 2 * 8) / 3;
    auto reds = [&](int panel) {
        int n = 0;
        const int x0 = static_cast<int>(panel * (panelWidth + 8));
        for (int y = static_cast<int>(top); y < static_cast<int>(top + band); ++y)
            for (int x = x0; x < x0 + static_cast<int>(panelWidth); ++x) {
                const QRgb c = out.pixel(x, y);
                n += qRed(c) > 150 && qGreen(c) < 110 && qBlue(c) < 110;
            }
        return n;
    };
    EXPECT_EQ(reds(0), 0);
    EXPECT_GT(reds(1), 30);
    EXPECT_GT(reds(2), 30);
}

}  // namespace
}  // namespace camx::ui
