// GUI tests run offscreen with a real QApplication; GoogleTest drives them.
#include <gtest/gtest.h>

#include <QApplication>
#include <QStandardPaths>

#include "nn/runtime.h"

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QStandardPaths::setTestModeEnabled(true);  // QSettings go to a test location
    QApplication app(argc, argv);
    QApplication::setOrganizationName("CAM Explorer Tests");
    QApplication::setApplicationName("cam-explorer-tests");
    camx::initTorchRuntime();
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
