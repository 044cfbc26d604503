"""The labelling workspace: image browser, class panel, image loading, thumbnails, saving, menus and label-storage dialogs."""
