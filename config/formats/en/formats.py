# As the pages write dates (templates: |date:"j M Y H:i"); what is not set here is Django's English.
DATETIME_FORMAT = "j M Y H:i"
DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
