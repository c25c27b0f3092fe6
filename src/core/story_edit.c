/* story_edit.c: not written yet. */
#include "err.h"
