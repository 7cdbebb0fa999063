#include "about_dialog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QVBoxLayout>
#include <opencv2/core/version.hpp>

#include "nn/runtime.h"

namespace camx::ui {

QString AboutDialog::versionText(const QString& device) {
    return tr("<h3>CAM Explorer %1</h3>"
              "<p>See where a CNN looks: CAM, Grad-CAM and friends, boxes and IoU.</p>"
              "<table>"
              "<tr><td>Qt</td><td>%2</td></tr>"
              "<tr><td>LibTorch</td><td>%3</td></tr>"
              "<tr><td>OpenCV</td><td>%4</td></tr>"
              "<tr><td>Device</td><td>%5</td></tr>"
              "</table>")
        .arg(QStringLiteral(CAMX_VERSION), QString::fromLatin1(qVersion()),
             QString::fromStdString(runtimeInfo().torchVersion), QStringLiteral(CV_VERSION),
             device.toHtmlEscaped());
}

AboutDialog::AboutDialog(const QString& device, QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("About CAM Explorer"));
    auto* label = new QLabel(versionText(device));
    label->setObjectName(QStringLiteral("versions"));
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(label);
    layout->addWidget(buttons);
}

}  // namespace camx::ui
