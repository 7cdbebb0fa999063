#pragma once
// Model ▸ Model Input: what a TorchScript model takes when its file does not say (or says
// wrongly): the square input size, the normalisation (a preset or six numbers) and, for
// transformers, the tokens before the patch grid and the grid itself. Asked once per file (the
// window remembers the answers) and offered again from the Model menu.

#include <QDialog>

#include "nn/script_meta.h"

class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QSpinBox;

namespace camx::ui {

class ModelInputDialog : public QDialog {
    Q_OBJECT
public:
    // `fileName` names the model in the explanation; `hasMetadata`: the file says something
    // about itself (these values then replace what it says).
    explicit ModelInputDialog(const QString& fileName, bool hasMetadata = false,
                              QWidget* parent = nullptr);

    // Fills in the controls: the size, the preset that matches mean and std (else Custom), the
    // transformer tokens when set. Unset fields keep their defaults (224, ImageNet).
    void setValues(const ScriptMeta& input);
    // The input size, mean and std always; the tokens only when their group is ticked.
    ScriptMeta values() const;
    // Why the model could not be opened with the previous answers (shown above the controls).
    void setError(const QString& error);
    QString error() const;

    enum Preset { ImageNet, ZeroOne, MinusOneOne, Custom };
    void setPreset(Preset preset);
    Preset preset() const;
    void setInputSize(int size);

private:
    void applyPreset();

    QLabel* m_error;
    QSpinBox* m_size;
    QComboBox* m_preset;
    QDoubleSpinBox* m_mean[3];
    QDoubleSpinBox* m_std[3];
    QGroupBox* m_tokens;
    QSpinBox* m_prefix;
    QSpinBox* m_gridH;
    QSpinBox* m_gridW;
};

}  // namespace camx::ui
