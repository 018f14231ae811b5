/* popcheck-wrap-box.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The preview's bar at the foot of a message: at 360 pixels its status
 * text and its two buttons do not fit in one row, and a row would squeeze
 * the text into a column one word wide and stretch the buttons to its
 * height.  Below the width of a row the children are stacked instead.
 */

#define G_LOG_DOMAIN "popcheck-wrap-box"

#include "config.h"

#include "popcheck-wrap-box.h"

struct _PopcheckWrapBox
{
  GtkWidget parent_instance;

  int       spacing;
};

G_DEFINE_FINAL_TYPE (PopcheckWrapBox, popcheck_wrap_box, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SPACING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The width of a row that gives every child its natural width. */
static int
row_width (PopcheckWrapBox *self,
           GtkWidget       *widget,
           int             *n_children)
{
  int width = 0;
  int n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      int natural;

      if (!gtk_widget_should_layout (child))
        continue;
      gtk_widget_measure (child, GTK_ORIENTATION_HORIZONTAL, -1,
                          NULL, &natural, NULL, NULL);
      width += natural;
      n++;
    }

  if (n_children != NULL)
    *n_children = n;

  return n > 0 ? width + (n - 1) * self->spacing : 0;
}

static int
n_expanding (GtkWidget *widget)
{
  int n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (gtk_widget_should_layout (child) &&
        gtk_widget_compute_expand (child, GTK_ORIENTATION_HORIZONTAL))
      n++;

  return n;
}

/* In a row, a child's width: its natural width, and what the row has to
 * spare shared among the children that expand. */
static int
width_in_row (GtkWidget *child,
              int        extra,
              int        n_expand,
              int       *expand_index)
{
  int natural;
  int width;

  gtk_widget_measure (child, GTK_ORIENTATION_HORIZONTAL, -1,
                      NULL, &natural, NULL, NULL);
  width = natural;
  if (n_expand > 0 && gtk_widget_compute_expand (child, GTK_ORIENTATION_HORIZONTAL))
    {
      /* The first ones take what does not divide evenly. */
      width += extra / n_expand + (*expand_index < extra % n_expand ? 1 : 0);
      (*expand_index)++;
    }

  return width;
}

static void
popcheck_wrap_box_measure (GtkWidget      *widget,
                           GtkOrientation  orientation,
                           int             for_size,
                           int            *minimum,
                           int            *natural,
                           int            *minimum_baseline,
                           int            *natural_baseline)
{
  PopcheckWrapBox *self = POPCHECK_WRAP_BOX (widget);
  int n_children;
  int full_row = row_width (self, widget, &n_children);
  gboolean in_row;
  int extra = 0;
  int n_expand = 0;
  int expand_index = 0;

  *minimum = 0;
  *natural = 0;
  *minimum_baseline = -1;
  *natural_baseline = -1;

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      /* Stacked, the widest child sets the minimum; a row is natural. */
      for (GtkWidget *child = gtk_widget_get_first_child (widget);
           child != NULL;
           child = gtk_widget_get_next_sibling (child))
        {
          int child_min;

          if (!gtk_widget_should_layout (child))
            continue;
          gtk_widget_measure (child, GTK_ORIENTATION_HORIZONTAL, -1,
                              &child_min, NULL, NULL, NULL);
          *minimum = MAX (*minimum, child_min);
        }
      *natural = MAX (*minimum, full_row);
      return;
    }

  /* Without a width, the height the narrowest width needs. */
  if (for_size < 0)
    gtk_widget_measure (widget, GTK_ORIENTATION_HORIZONTAL, -1,
                        &for_size, NULL, NULL, NULL);
  in_row = for_size >= full_row;
  if (in_row)
    {
      extra = for_size - full_row;
      n_expand = n_expanding (widget);
    }

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      int child_width = for_size;
      int child_min, child_nat;

      if (!gtk_widget_should_layout (child))
        continue;
      if (in_row)
        child_width = width_in_row (child, extra, n_expand, &expand_index);
      gtk_widget_measure (child, GTK_ORIENTATION_VERTICAL, child_width,
                          &child_min, &child_nat, NULL, NULL);
      if (in_row)
        {
          *minimum = MAX (*minimum, child_min);
          *natural = MAX (*natural, child_nat);
        }
      else
        {
          *minimum += child_min;
          *natural += child_nat;
        }
    }

  if (!in_row && n_children > 1)
    {
      *minimum += (n_children - 1) * self->spacing;
      *natural += (n_children - 1) * self->spacing;
    }
}

static void
popcheck_wrap_box_size_allocate (GtkWidget *widget,
                                 int        width,
                                 int        height,
                                 int        baseline)
{
  PopcheckWrapBox *self = POPCHECK_WRAP_BOX (widget);
  gboolean rtl = gtk_widget_get_direction (widget) == GTK_TEXT_DIR_RTL;
  int full_row = row_width (self, widget, NULL);
  int n_expand = n_expanding (widget);
  int expand_index = 0;
  int x = 0;
  int y = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      int child_width;
      int child_height;

      if (!gtk_widget_should_layout (child))
        continue;

      if (width >= full_row)
        {
          child_width = width_in_row (child, width - full_row, n_expand, &expand_index);
          gtk_widget_size_allocate (child,
                                    &(GtkAllocation) {
                                      rtl ? width - x - child_width : x, 0,
                                      child_width, height
                                    },
                                    -1);
          x += child_width + self->spacing;
          continue;
        }

      /* Stacked: each at the full width, as tall as it needs; the height
       * measured is at least the sum of these. */
      gtk_widget_measure (child, GTK_ORIENTATION_VERTICAL, width,
                          &child_height, NULL, NULL, NULL);
      gtk_widget_size_allocate (child,
                                &(GtkAllocation) { 0, y, width, child_height },
                                -1);
      y += child_height + self->spacing;
    }
}

static GtkSizeRequestMode
popcheck_wrap_box_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
popcheck_wrap_box_dispose (GObject *object)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (popcheck_wrap_box_parent_class)->dispose (object);
}

static void
popcheck_wrap_box_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  PopcheckWrapBox *self = POPCHECK_WRAP_BOX (object);

  switch (prop_id)
    {
    case PROP_SPACING:
      g_value_set_int (value, self->spacing);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_wrap_box_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  PopcheckWrapBox *self = POPCHECK_WRAP_BOX (object);

  switch (prop_id)
    {
    case PROP_SPACING:
      popcheck_wrap_box_set_spacing (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_wrap_box_class_init (PopcheckWrapBoxClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = popcheck_wrap_box_dispose;
  object_class->get_property = popcheck_wrap_box_get_property;
  object_class->set_property = popcheck_wrap_box_set_property;

  widget_class->get_request_mode = popcheck_wrap_box_get_request_mode;
  widget_class->measure = popcheck_wrap_box_measure;
  widget_class->size_allocate = popcheck_wrap_box_size_allocate;

  gtk_widget_class_set_css_name (widget_class, "wrapbox");

  properties[PROP_SPACING] =
    g_param_spec_int ("spacing", NULL, NULL,
                      0, G_MAXINT, 0,
                      (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                       G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
popcheck_wrap_box_init (PopcheckWrapBox *self)
{
}

GtkWidget *
popcheck_wrap_box_new (void)
{
  return g_object_new (POPCHECK_TYPE_WRAP_BOX, NULL);
}

int
popcheck_wrap_box_get_spacing (PopcheckWrapBox *self)
{
  g_return_val_if_fail (POPCHECK_IS_WRAP_BOX (self), 0);

  return self->spacing;
}

void
popcheck_wrap_box_set_spacing (PopcheckWrapBox *self,
                                  int                 spacing)
{
  g_return_if_fail (POPCHECK_IS_WRAP_BOX (self));
  g_return_if_fail (spacing >= 0);

  if (self->spacing == spacing)
    return;

  self->spacing = spacing;
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPACING]);
}
