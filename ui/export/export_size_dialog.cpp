#include "export/export_size_dialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QSettings>
#include <QSignalBlocker>
#include <QSpinBox>
#include <cmath>

namespace camx::ui {

ExportSizeDialog::ExportSizeDialog(const QSizeF& natural, QWidget* parent)
    : QDialog(parent), m_natural(natural) {
    setWindowTitle(tr("Figure Size"));
    m_dpi = new QSpinBox;
    m_dpi->setObjectName(QStringLiteral("dpiSpin"));
    m_dpi->setRange(10, 2400);
    m_dpi->setSuffix(tr(" DPI"));
    m_width = new QSpinBox;
    m_width->setObjectName(QStringLiteral("widthSpin"));
    m_width->setRange(1, 30000);
    m_width->setSuffix(tr(" px"));
    m_height = new QLabel;
    const int dpi = QSettings().value("export/dpi", 96).toInt();
    m_dpi->setValue(dpi);
    m_width->setValue(static_cast<int>(std::lround(natural.width() * dpi / 96.0)));
    // Width and DPI are two views of one scale factor.
    connect(m_dpi, &QSpinBox::valueChanged, this, [this](int d) {
        const QSignalBlocker b(m_width);
        m_width->setValue(static_cast<int>(std::lround(m_natural.width() * d / 96.0)));
        updateHeight();
    });
    connect(m_width, &QSpinBox::valueChanged, this, [this](int w) {
        const QSignalBlocker b(m_dpi);
        m_dpi->setValue(static_cast<int>(std::lround(96.0 * w / m_natural.width())));
        updateHeight();
    });
    auto* form = new QFormLayout(this);
    form->addRow(tr("&Resolution"), m_dpi);
    form->addRow(tr("&Width"), m_width);
    form->addRow(tr("Height"), m_height);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        QSettings().setValue("export/dpi", m_dpi->value());
        accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    form->addRow(buttons);
    updateHeight();
}

void ExportSizeDialog::updateHeight() {
    m_height->setText(tr("%1 px").arg(rasterSize(m_natural, options()).height()));
}

ExportOptions ExportSizeDialog::options() const {
    ExportOptions o;
    o.widthPx = m_width->value();
    o.dpi = m_dpi->value();
    return o;
}

}  // namespace camx::ui
