#include "model/model_input_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>

namespace camx::ui {

namespace {
struct PresetValues {
    std::array<float, 3> mean, std;
};
const PresetValues kPresets[] = {
    {{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}},  // ImageNet
    {{0.f, 0.f, 0.f}, {1.f, 1.f, 1.f}},                    // [0, 1]
    {{0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}},              // [-1, 1]
};

bool same(const std::array<float, 3>& a, const std::array<float, 3>& b) {
    for (std::size_t i = 0; i < 3; ++i)
        if (std::abs(a[i] - b[i]) > 5e-4f) return false;
    return true;
}

QDoubleSpinBox* numberBox(double lo, double hi, const QString& name) {
    auto* b = new QDoubleSpinBox;
    b->setRange(lo, hi);
    b->setDecimals(3);
    b->setSingleStep(0.01);
    b->setObjectName(name);
    return b;
}
}  // namespace

ModelInputDialog::ModelInputDialog(const QString& fileName, bool hasMetadata, QWidget* parent)
    : QDialog(parent) {
    setWindowTitle(tr("Model input"));
    setObjectName(QStringLiteral("modelInputDialog"));
    auto* intro = new QLabel(
        hasMetadata
            ? tr("<b>%1</b> says what input it takes; the values here replace what it says.")
                  .arg(fileName.toHtmlEscaped())
            : tr("<b>%1</b> does not say what input it takes. Give the image size and the "
                 "normalisation it was trained with; CAM Explorer remembers them for this file "
                 "(<i>Model ▸ Model Input…</i> changes them).")
                  .arg(fileName.toHtmlEscaped()));
    intro->setWordWrap(true);
    m_error = new QLabel;
    m_error->setObjectName(QStringLiteral("modelInputError"));
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setStyleSheet(
        QStringLiteral("QLabel { background: #f8d7da; color: #58151c; border: 1px solid #f1aeb5; "
                       "padding: 4px; }"));
    m_error->hide();

    m_size = new QSpinBox;
    m_size->setObjectName(QStringLiteral("inputSizeSpin"));
    m_size->setRange(32, 1024);
    m_size->setValue(224);
    m_size->setSuffix(tr(" px"));
    m_size->setToolTip(tr("Images are resized whole to this square size"));
    m_preset = new QComboBox;
    m_preset->setObjectName(QStringLiteral("normalizationCombo"));
    m_preset->addItem(tr("ImageNet mean and std"), ImageNet);
    m_preset->addItem(tr("[0, 1] (mean 0, std 1)"), ZeroOne);
    m_preset->addItem(tr("[-1, 1] (mean 0.5, std 0.5)"), MinusOneOne);
    m_preset->addItem(tr("Custom"), Custom);
    auto* numbers = new QGridLayout;
    numbers->addWidget(new QLabel(tr("R")), 0, 1, Qt::AlignCenter);
    numbers->addWidget(new QLabel(tr("G")), 0, 2, Qt::AlignCenter);
    numbers->addWidget(new QLabel(tr("B")), 0, 3, Qt::AlignCenter);
    numbers->addWidget(new QLabel(tr("Mean")), 1, 0);
    numbers->addWidget(new QLabel(tr("Std")), 2, 0);
    for (int c = 0; c < 3; ++c) {
        m_mean[c] = numberBox(-10.0, 10.0, QStringLiteral("meanSpin%1").arg(c));
        m_std[c] = numberBox(0.001, 100.0, QStringLiteral("stdSpin%1").arg(c));
        numbers->addWidget(m_mean[c], 1, c + 1);
        numbers->addWidget(m_std[c], 2, c + 1);
    }
    auto* numbersHint = new QLabel(tr("On pixel values from 0 to 1: (x − mean) / std"));
    numbersHint->setEnabled(false);

    m_tokens = new QGroupBox(tr("&Transformer tokens"));
    m_tokens->setObjectName(QStringLiteral("tokensGroup"));
    m_tokens->setCheckable(true);
    m_tokens->setChecked(false);
    m_tokens->setToolTip(
        tr("For vision transformers whose layers output tokens: left unticked, CAM Explorer "
           "finds the grid itself"));
    m_prefix = new QSpinBox;
    m_prefix->setObjectName(QStringLiteral("prefixTokensSpin"));
    m_prefix->setRange(0, 64);
    m_prefix->setValue(1);
    m_prefix->setToolTip(tr("Tokens before the patch grid (1 for ViT's class token)"));
    m_gridH = new QSpinBox;
    m_gridH->setObjectName(QStringLiteral("gridHeightSpin"));
    m_gridW = new QSpinBox;
    m_gridW->setObjectName(QStringLiteral("gridWidthSpin"));
    for (QSpinBox* g : {m_gridH, m_gridW}) {
        g->setRange(1, 256);
        g->setValue(14);
    }
    auto* grid = new QHBoxLayout;
    grid->addWidget(m_gridH);
    grid->addWidget(new QLabel(QStringLiteral("×")));
    grid->addWidget(m_gridW);
    grid->addStretch(1);
    auto* tokens = new QFormLayout(m_tokens);
    tokens->addRow(tr("&Prefix tokens"), m_prefix);
    auto* gridLabel = new QLabel(tr("Patch &grid"));
    gridLabel->setBuddy(m_gridH);
    tokens->addRow(gridLabel, grid);

    auto* form = new QFormLayout;
    form->addRow(tr("&Input size"), m_size);
    form->addRow(tr("&Normalisation"), m_preset);
    form->addRow(QString(), numbers);
    form->addRow(QString(), numbersHint);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("&Open"));
    buttons->button(QDialogButtonBox::Ok)->setObjectName(QStringLiteral("modelInputOk"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto* root = new QVBoxLayout(this);
    root->addWidget(intro);
    root->addWidget(m_error);
    root->addLayout(form);
    root->addWidget(m_tokens);
    root->addWidget(buttons);

    connect(m_preset, &QComboBox::currentIndexChanged, this, [this] { applyPreset(); });
    applyPreset();
    setMinimumWidth(460);
}

void ModelInputDialog::applyPreset() {
    const Preset p = preset();
    for (int c = 0; c < 3; ++c) {
        m_mean[c]->setEnabled(p == Custom);
        m_std[c]->setEnabled(p == Custom);
        if (p != Custom) {
            m_mean[c]->setValue(kPresets[p].mean[static_cast<std::size_t>(c)]);
            m_std[c]->setValue(kPresets[p].std[static_cast<std::size_t>(c)]);
        }
    }
}

void ModelInputDialog::setPreset(Preset preset) {
    m_preset->setCurrentIndex(m_preset->findData(preset));
}

ModelInputDialog::Preset ModelInputDialog::preset() const {
    return static_cast<Preset>(m_preset->currentData().toInt());
}

void ModelInputDialog::setInputSize(int size) {
    m_size->setValue(size);
}

void ModelInputDialog::setValues(const ScriptMeta& input) {
    if (input.inputSize) m_size->setValue(*input.inputSize);
    if (input.mean || input.std) {
        const std::array<float, 3> mean = input.mean ? *input.mean : kPresets[ImageNet].mean;
        const std::array<float, 3> sd = input.std ? *input.std : kPresets[ImageNet].std;
        Preset match = Custom;
        for (Preset p : {ImageNet, ZeroOne, MinusOneOne})
            if (same(mean, kPresets[p].mean) && same(sd, kPresets[p].std)) match = p;
        setPreset(match);
        if (match == Custom)
            for (int c = 0; c < 3; ++c) {
                m_mean[c]->setValue(mean[static_cast<std::size_t>(c)]);
                m_std[c]->setValue(sd[static_cast<std::size_t>(c)]);
            }
    }
    m_tokens->setChecked(input.prefixTokens || input.patchGrid);
    if (input.prefixTokens) m_prefix->setValue(*input.prefixTokens);
    if (input.patchGrid) {
        m_gridH->setValue((*input.patchGrid)[0]);
        m_gridW->setValue((*input.patchGrid)[1]);
    }
}

ScriptMeta ModelInputDialog::values() const {
    ScriptMeta m;
    m.inputSize = m_size->value();
    std::array<float, 3> mean{}, sd{};
    for (std::size_t c = 0; c < 3; ++c) {
        mean[c] = static_cast<float>(m_mean[c]->value());
        sd[c] = static_cast<float>(m_std[c]->value());
    }
    m.mean = mean;
    m.std = sd;
    if (m_tokens->isChecked()) {
        m.prefixTokens = m_prefix->value();
        m.patchGrid = std::array<int, 2>{m_gridH->value(), m_gridW->value()};
    }
    return m;
}

void ModelInputDialog::setError(const QString& error) {
    m_error->setText(error.isEmpty()
                         ? QString()
                         : tr("It could not be opened with the last answers: %1").arg(error));
    m_error->setVisible(!error.isEmpty());
}

QString ModelInputDialog::error() const {
    return m_error->isVisible() ? m_error->text() : QString();
}

}  // namespace camx::ui
