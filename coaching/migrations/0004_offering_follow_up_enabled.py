from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("coaching", "0003_busy_calendars_and_feed_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="offering",
            name="follow_up_enabled",
            field=models.BooleanField(
                default=True,
                help_text="An hour after the call, the client gets a thank-you with a link to book the next one.",
                verbose_name="follow-up email",
            ),
        ),
    ]
