// GUI tests run offscreen with a real QApplication; GoogleTest drives them.
#include <gtest/gtest.h>

#include <QApplication>
#include <QFile>
#include <QSettings>
#include <QStandardPaths>

#include "nn/runtime.h"

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QStandardPaths::setTestModeEnabled(true);  // QSettings go to a test location
    QApplication app(argc, argv);
    QApplication::setOrganizationName("CAM Explorer Tests");
    // ctest runs test processes in parallel: each gets its own settings file, or one test's
    // clean-up wipes what another just remembered.
    QApplication::setApplicationName(
        QStringLiteral("cam-explorer-tests-%1").arg(QCoreApplication::applicationPid()));
    camx::initTorchRuntime();
    ::testing::InitGoogleTest(&argc, argv);
    const int result = RUN_ALL_TESTS();
    const QString file = QSettings().fileName();
    QFile::remove(file);
    return result;
}
