from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('models_registry', '0003_mutation_items'),
    ]

    operations = [
        migrations.AddField(
            model_name='application',
            name='rate_limit_minute',
            field=models.PositiveIntegerField(default=200, help_text='Requests per minute, taken first.'),
        ),
        migrations.AddField(
            model_name='application',
            name='rate_limit_hour',
            field=models.PositiveIntegerField(default=2600, help_text="Requests per hour, taken when the minute's are used up."),
        ),
        migrations.AddField(
            model_name='application',
            name='rate_limit_day',
            field=models.PositiveIntegerField(default=1150, help_text="Requests per day, taken when the hour's are used up too."),
        ),
    ]
