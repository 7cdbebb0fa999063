#pragma once
// A box in pixel coordinates: what datasets read, maps are turned into, IoU compares and figures
// draw. Its own header so that localisation and rendering need no dataset reader.

namespace camx {

// Pixel coordinates of the original image, inclusive on both ends as in PASCAL VOC (a box
// covering one pixel has xmin == xmax).
struct Box {
    int xmin = 0, ymin = 0, xmax = 0, ymax = 0;
    bool operator==(const Box& o) const {
        return xmin == o.xmin && ymin == o.ymin && xmax == o.xmax && ymax == o.ymax;
    }
};

}  // namespace camx
