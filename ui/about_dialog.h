#pragma once
#include <QDialog>

namespace camx::ui {

// Versions of Qt, LibTorch and OpenCV, and the device the passes run on.
class AboutDialog : public QDialog {
    Q_OBJECT
public:
    explicit AboutDialog(const QString& device, QWidget* parent = nullptr);
    static QString versionText(const QString& device);
};

}  // namespace camx::ui
