#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QListView>
#include <QSignalSpy>
#include <QTest>

#include "../core/test_support.h"
#include "browser/browser_panel.h"
#include "browser/dataset_filter.h"
#include "browser/dataset_model.h"
#include "browser/thumbnail_loader.h"

namespace camx::ui {
namespace {

class BrowserModel : public test::DemoSuite<2, 4, 3, 5> {
protected:
};

TEST_F(BrowserModel, PassesTheModelTesterThroughResetsFiltersAndSorting) {
    DatasetModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    DatasetFilter filter;
    filter.setSourceModel(&model);
    QAbstractItemModelTester proxyTester(&filter,
                                         QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setSplit(s_ds->test.samples, s_ds->breedNames);
    EXPECT_EQ(model.rowCount(), 12);
    EXPECT_EQ(model.index(0).data(DatasetModel::BreedRole).toString(), "Spotted Pointer");

    filter.setBreed(2);
    EXPECT_EQ(filter.rowCount(), 4);
    for (int r = 0; r < filter.rowCount(); ++r)
        EXPECT_EQ(filter.index(r, 0).data(DatasetModel::LabelRole).toInt(), 2);
    filter.setBreed(-1);
    filter.setNameFilter("n90000002_100");
    EXPECT_EQ(filter.rowCount(), 4);
    filter.setNameFilter("");

    // An evaluation: rows 0..5 right, 6..11 wrong, with decreasing confidence.
    std::vector<ImageRecord> records;
    for (int r = 0; r < 12; ++r) {
        ImageRecord rec;
        rec.index = static_cast<std::size_t>(r);
        rec.relPath = model.sample(r).relPath;
        rec.label = model.sample(r).label;
        rec.predicted = r < 6 ? rec.label : (rec.label + 1) % 3;
        rec.probability = static_cast<float>(1.0 - r * 0.05);
        MapScore score;
        score.method = Method::GradCam;
        score.tap = 3;
        score.iou = static_cast<float>(r * 0.07);
        rec.scores.push_back(score);
        records.push_back(rec);
    }
    EXPECT_FALSE(model.hasResults());
    model.setEvaluation(records, Method::GradCam, 3);
    EXPECT_TRUE(model.hasResults());
    filter.setCorrectness(DatasetFilter::Correctness::Wrong);
    EXPECT_EQ(filter.rowCount(), 6);
    // A "show only" list (a breed row or histogram bar of the dashboard) is exact: the other
    // filters do not cut it (rows 0 and 1 are right, yet both are listed).
    filter.setRowSet({0, 1});
    EXPECT_EQ(filter.rowCount(), 2);
    filter.setRowSet({});
    filter.setCorrectness(DatasetFilter::Correctness::Any);
    filter.setSortKey(DatasetFilter::SortKey::Confidence);
    EXPECT_NEAR(filter.index(0, 0).data(DatasetModel::ConfidenceRole).toDouble(), 1.0 - 11 * 0.05,
                1e-6);
    filter.setSortKey(DatasetFilter::SortKey::Iou, Qt::DescendingOrder);
    EXPECT_NEAR(filter.index(0, 0).data(DatasetModel::IouRole).toDouble(), 11 * 0.07, 1e-6);
    // A new model: nothing of the old one's results stays (Show ▸ Wrong listed its mistakes).
    model.clearResults();
    EXPECT_FALSE(model.hasResults());
    filter.setCorrectness(DatasetFilter::Correctness::Wrong);
    EXPECT_EQ(filter.rowCount(), 0);
    filter.setCorrectness(DatasetFilter::Correctness::Any);
    for (int r = 0; r < 12; ++r)
        EXPECT_EQ(model.index(r).data(DatasetModel::IouRole).toDouble(), -1.0);

    // A model with other classes (an ImageNet model on dog breeds): right and wrong compare the
    // prediction with the breed's index among the model's classes, and the tooltip names the
    // model's class, not the breed at that index.
    const std::vector<std::string> modelNames{"tench", "goldfish", "shark",
                                              "hen",   "cock",     "ostrich"};
    for (auto& rec : records) {
        rec.modelLabel = rec.label + 3;
        rec.predicted = rec.index < 6 ? rec.modelLabel : rec.label;
    }
    model.setEvaluation(records, Method::GradCam, 3, modelNames);
    EXPECT_TRUE(model.hasCorrectness());
    EXPECT_EQ(model.index(0).data(DatasetModel::CorrectRole).toInt(), 1);
    EXPECT_EQ(model.index(6).data(DatasetModel::CorrectRole).toInt(), 0);  // breed index != class
    filter.setCorrectness(DatasetFilter::Correctness::Wrong);
    EXPECT_EQ(filter.rowCount(), 6);
    EXPECT_GE(filter.mapToSource(filter.index(0, 0)).row(), 6);
    filter.setCorrectness(DatasetFilter::Correctness::Any);
    const std::string tip0 = model.index(0).data(Qt::ToolTipRole).toString().toStdString();
    EXPECT_NE(tip0.find("predicted " + modelNames[static_cast<std::size_t>(records[0].label + 3)]),
              std::string::npos)
        << tip0;
    // No class of the dataset among the model's: nothing is right or wrong.
    for (auto& rec : records) rec.modelLabel = -1;
    model.setEvaluation(records, Method::GradCam, 3, modelNames);
    EXPECT_FALSE(model.hasCorrectness());
    for (int r = 0; r < 12; ++r)
        EXPECT_EQ(model.index(r).data(DatasetModel::CorrectRole).toInt(), -1);
    filter.setCorrectness(DatasetFilter::Correctness::Wrong);
    EXPECT_EQ(filter.rowCount(), 0);
    filter.setCorrectness(DatasetFilter::Correctness::Any);
    // IoU still sorts.
    EXPECT_NEAR(model.index(11).data(DatasetModel::IouRole).toDouble(), 11 * 0.07, 1e-6);

    model.setSplit({}, {});
    EXPECT_EQ(filter.rowCount(), 0);
}

TEST_F(BrowserModel, ThumbnailsArriveAsynchronouslyAndAreCached) {
    DatasetModel model;
    model.setSplit(s_ds->test.samples, s_ds->breedNames);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    // Until its thumbnail is decoded (off the GUI thread) a row shows an empty cell of the same
    // size.
    auto centre = [&](int row) {
        const QImage img = model.index(row).data(Qt::DecorationRole).value<QPixmap>().toImage();
        return img.pixelColor(img.width() / 2, img.height() / 2);
    };
    const QPixmap blank = model.index(3).data(Qt::DecorationRole).value<QPixmap>();
    EXPECT_EQ(blank.size(), DatasetModel::thumbnailSize());
    EXPECT_EQ(centre(3).alpha(), 0) << "decoded on the GUI thread";
    ASSERT_TRUE(QTest::qWaitFor([&] { return centre(3).alpha() == 255; }, 10000));
    const QPixmap pm = model.index(3).data(Qt::DecorationRole).value<QPixmap>();
    EXPECT_EQ(pm.size(), DatasetModel::thumbnailSize());
    EXPECT_GE(changed.count(), 1);
}

// The thumbnail grid measures its cells on one row (uniform sizes). Measured before any thumbnail
// had arrived, every cell used to be a 12-pixel strip without its file name until something else
// relaid the grid out.
TEST_F(BrowserModel, CellsHaveTheirFullSizeBeforeThumbnailsArrive) {
    DatasetModel model;
    BrowserPanel panel(&model);
    panel.resize(300, 600);
    panel.show();
    for (SplitKind split : {SplitKind::Test, SplitKind::Train, SplitKind::Test}) {
        panel.setDataset(s_ds.get(), split);
        QListView* view = panel.view();
        view->doItemsLayout();  // no event processed: no thumbnail can have arrived
        ASSERT_GT(view->model()->rowCount(), 0);
        const QRect cell = view->visualRect(view->model()->index(0, 0));
        EXPECT_GE(cell.height(),
                  DatasetModel::thumbnailSize().height() + view->fontMetrics().height())
            << "a thin strip";
        EXPECT_GE(cell.width(), DatasetModel::thumbnailSize().width());
    }
}

}  // namespace
}  // namespace camx::ui
