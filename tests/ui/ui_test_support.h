#pragma once
// Shared set-up for the GUI tests: a main window with a dataset and a model opened.
#include <gtest/gtest.h>

#include <QSignalSpy>
#include <QTest>
#include <filesystem>
#include <memory>

#include "main_window.h"

namespace camx::ui {

// A visible window (errors are recorded, not shown as dialogs) that has loaded both files.
inline void openDatasetAndModelForTest(MainWindow& window, const std::filesystem::path& data,
                                       const std::filesystem::path& model) {
    window.setQuietErrors(true);
    window.resize(1200, 760);
    window.show();
    QSignalSpy loadedData(&window, &MainWindow::datasetLoaded);
    QSignalSpy loadedModel(&window, &MainWindow::modelLoaded);
    window.openDataset(QString::fromStdString(data.string()));
    ASSERT_TRUE(loadedData.wait(20000)) << window.lastError().toStdString();
    window.openModel(QString::fromStdString(model.string()));
    ASSERT_TRUE(QTest::qWaitFor([&] { return loadedModel.count() > 0; }, 30000))
        << window.lastError().toStdString();
}

}  // namespace camx::ui
