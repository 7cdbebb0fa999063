// Keras models in the window, offscreen: the preprocessing question (a Keras file does not record
// how its input was prepared), asked once per file and remembered; Cancel opens nothing; the
// answer decides the network's input; a newer open replaces an unanswered question; the open
// dialog's and drag and drop's suffixes.
#include <gtest/gtest.h>

#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTest>

#include "../core/test_support.h"
#include "explain/model_session.h"
#include "main_window.h"
#include "model/model_files.h"

namespace camx::ui {
namespace {
namespace fs = std::filesystem;

QString qpath(const fs::path& p) {
    return QString::fromStdString(p.string());
}

class KerasWindow : public ::testing::Test {
protected:
    void SetUp() override { clear(); }
    void TearDown() override { clear(); }
    static void clear() {
        QSettings s;
        for (const char* key : {"modelInput", "recent", "paths", "start"}) s.remove(key);
    }

    // A copy of a Keras fixture (the remembered answer is per file).
    fs::path copyOf(const std::string& fixture, const std::string& as) {
        const fs::path to = m_tmp.path() / as;
        fs::copy_file(test::fixture("keras/" + fixture), to);
        return to;
    }

    // Opens `file` and returns the question it asks.
    static QMessageBox* ask(MainWindow& w, const QString& file) {
        QSignalSpy asked(&w, &MainWindow::modelQuestionAsked);
        w.openModel(file);
        EXPECT_EQ(asked.count(), 1);  // asked at once, nothing read yet
        return w.kerasPrompt();
    }

    test::TempDir m_tmp;
};

TEST_F(KerasWindow, AsksThePreprocessingOncePerFile) {
    const QString file = qpath(copyOf("resnet50_w2_c5.h5", "dogs.h5"));
    ASSERT_FALSE(rememberedKerasPreprocess(file));
    {
        MainWindow w;
        w.setQuietErrors(true);
        w.show();
        QMessageBox* box = ask(w, file);
        ASSERT_TRUE(box);
        EXPECT_EQ(box->objectName(), QStringLiteral("kerasPreprocessPrompt"));
        EXPECT_TRUE(box->isVisible());
        EXPECT_EQ(box->text(), QStringLiteral("How was the input of dogs.h5 preprocessed in "
                                              "training? Keras files do not record it."));
        EXPECT_EQ(w.model(), nullptr);
        EXPECT_FALSE(w.isLoading());
        EXPECT_FALSE(w.trustPrompt());  // a Keras file runs no code of its own

        // Cancel: nothing opened, nothing remembered.
        auto* cancel = box->button(QMessageBox::Cancel);
        ASSERT_TRUE(cancel);
        cancel->click();
        QTest::qWait(50);
        EXPECT_FALSE(w.kerasPrompt());
        EXPECT_EQ(w.model(), nullptr);
        EXPECT_FALSE(w.isLoading());
        EXPECT_FALSE(rememberedKerasPreprocess(file));

        // Asked again; Unit opens it with pixel / 255, RGB.
        box = ask(w, file);
        ASSERT_TRUE(box);
        auto* unit = box->findChild<QPushButton*>("kerasUnitButton");
        ASSERT_TRUE(unit);
        QSignalSpy loaded(&w, &MainWindow::modelLoaded);
        unit->click();
        ASSERT_TRUE(QTest::qWaitFor([&] { return loaded.count() > 0; }, 30000))
            << w.lastError().toStdString();
        const ModelInfo& info = w.model()->info();
        EXPECT_EQ(info.arch, Arch::KerasResNet50);
        ASSERT_TRUE(info.kerasPreprocess);
        EXPECT_EQ(*info.kerasPreprocess, KerasPreprocess::Unit);
        EXPECT_FALSE(info.norm.bgr);
        EXPECT_EQ(info.norm.std[0], 1.f);
        EXPECT_EQ(rememberedKerasPreprocess(file), KerasPreprocess::Unit);
    }
    // Another window (the next start): remembered, not asked.
    MainWindow w;
    w.setQuietErrors(true);
    QSignalSpy asked(&w, &MainWindow::modelQuestionAsked);
    QSignalSpy loaded(&w, &MainWindow::modelLoaded);
    w.openModel(file);
    ASSERT_TRUE(QTest::qWaitFor([&] { return loaded.count() > 0; }, 30000))
        << w.lastError().toStdString();
    EXPECT_EQ(asked.count(), 0);
    EXPECT_EQ(w.model()->info().kerasPreprocess, KerasPreprocess::Unit);

    // Another file asks for itself; Caffe gives the BGR, mean-subtracted input.
    const QString other = qpath(copyOf("resnet50_w2_c5.keras", "imagenet.keras"));
    QMessageBox* box = ask(w, other);
    ASSERT_TRUE(box);
    auto* caffe = box->findChild<QPushButton*>("kerasCaffeButton");
    ASSERT_TRUE(caffe);
    loaded.clear();
    caffe->click();
    ASSERT_TRUE(QTest::qWaitFor([&] { return loaded.count() > 0; }, 30000))
        << w.lastError().toStdString();
    EXPECT_EQ(w.model()->info().kerasPreprocess, KerasPreprocess::Caffe);
    EXPECT_TRUE(w.model()->info().norm.bgr);
    EXPECT_EQ(rememberedKerasPreprocess(other), KerasPreprocess::Caffe);
    EXPECT_EQ(rememberedKerasPreprocess(file), KerasPreprocess::Unit);
}

// Opening another model while the question is shown withdraws it: a late answer cannot open the
// file the user moved away from.
TEST_F(KerasWindow, NewerOpenWithdrawsTheQuestion) {
    const QString first = qpath(copyOf("resnet50_w2_c5.h5", "first.h5"));
    const QString second = qpath(copyOf("resnet50_w2_c5_nested.h5", "second.h5"));
    MainWindow w;
    w.setQuietErrors(true);
    w.show();
    QPointer<QMessageBox> box = ask(w, first);
    ASSERT_TRUE(box);
    QMessageBox* next = ask(w, second);
    ASSERT_TRUE(next);
    EXPECT_NE(next, box.data());
    QTest::qWait(50);
    EXPECT_TRUE(!box || !box->isVisible());
    EXPECT_TRUE(next->text().contains(QStringLiteral("second.h5"))) << next->text().toStdString();
    EXPECT_FALSE(rememberedKerasPreprocess(first));
    EXPECT_EQ(w.model(), nullptr);
}

TEST(KerasModelFiles, SuffixesOfTheOpenDialogAndDragAndDrop) {
    for (const char* f : {"m.h5", "m.H5", "m.hdf5", "m.keras", "dir/m.KERAS"}) {
        EXPECT_TRUE(hasKerasSuffix(QString::fromLatin1(f))) << f;
        EXPECT_TRUE(hasModelSuffix(QString::fromLatin1(f))) << f;
    }
    for (const char* f : {"m.pth", "m.ckpt", "m.pt", "m.h5.txt", "m.weights"})
        EXPECT_FALSE(hasKerasSuffix(QString::fromLatin1(f))) << f;
}

}  // namespace
}  // namespace camx::ui
